// Service clients for tests: registered straight through the domain, and the requests of the OAuth endpoints.
import type { FastifyInstance } from 'fastify'
import { createClient, type NewClientView } from '../src/oauth/service-clients.js'

export async function makeClient (app: FastifyInstance, scopes: string[] = ['orders.read', 'orders.write'], name = 'billing'): Promise<NewClientView> {
  return createClient(app.auth, { name, scopes })
}

/** `Authorization: Basic` as RFC 6749 §2.3.1 builds it: each part form-encoded first. */
export function basic (id: string, secret: string) {
  const encode = (part: string) => encodeURIComponent(part).replace(/%20/g, '+')
  return { authorization: `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}` }
}

export function basicOf (client: { client_id: string, client_secret: string }) {
  return basic(client.client_id, client.client_secret)
}

/** A form-encoded POST. */
export function postForm (app: FastifyInstance, url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams(fields).toString()
  })
}

/** A JSON POST. */
export function postJson (app: FastifyInstance, url: string, body: unknown, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url, headers, payload: body as object })
}

/** A client access token, through the token endpoint. */
export async function clientToken (app: FastifyInstance, client: NewClientView, scope?: string): Promise<string> {
  const res = await postForm(app, '/oauth/token', { grant_type: 'client_credentials', ...(scope !== undefined && { scope }) }, basicOf(client))
  if (res.statusCode !== 200) throw new Error(`token failed: ${res.statusCode} ${res.body}`)
  return res.json().access_token
}

export function introspectAs (app: FastifyInstance, client: NewClientView, token: string) {
  return postForm(app, '/oauth/introspect', { token }, basicOf(client))
}

export function revokeAs (app: FastifyInstance, client: NewClientView, token: string) {
  return postForm(app, '/oauth/revoke', { token }, basicOf(client))
}
