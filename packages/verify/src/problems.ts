// The guards' refusals, in the problem+json shape Portcullis itself answers with (API.md, "Conventions").
import { STATUS_CODES } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'

export interface Refusal {
  status: 401 | 403 | 503
  code: string
  detail: string
  /** The RFC 6750 `error` attribute of WWW-Authenticate, when the refusal is about the token. */
  bearerError?: 'invalid_token' | 'insufficient_scope' | 'insufficient_user_authentication'
  /** The RFC 6750 `scope` attribute: the scopes that would have been enough. */
  scope?: string
  /** RFC 9470's `acr_values`: the authentication level that would have been enough. */
  acrValues?: string
}

export const refusals = {
  notAuthenticated: (): Refusal => ({ status: 401, code: 'not_authenticated', detail: 'Authentication credentials were not provided.' }),
  tokenNotValid: (detail = 'The token is invalid or expired.'): Refusal =>
    ({ status: 401, code: 'token_not_valid', detail, bearerError: 'invalid_token' }),
  permissionDenied: (missing: string[]): Refusal =>
    ({ status: 403, code: 'permission_denied', detail: `You do not have permission to perform this action (missing: ${missing.join(', ')}).` }),
  scopeDenied: (missing: string[]): Refusal =>
    ({ status: 403, code: 'permission_denied', detail: `The token lacks the required scope (missing: ${missing.join(', ')}).`, bearerError: 'insufficient_scope', scope: missing.join(' ') }),
  stepUpRequired: (acr: string): Refusal =>
    ({ status: 401, code: 'step_up_required', detail: `This operation needs a stronger authentication (${acr}): raise the session with a second factor and retry.`, bearerError: 'insufficient_user_authentication', acrValues: acr }),
  unavailable: (): Refusal =>
    ({ status: 503, code: 'service_unavailable', detail: 'Tokens cannot be verified right now; try again shortly.' })
}

function wwwAuthenticate (realm: string, refusal: Refusal): string | undefined {
  if (refusal.status === 503) return undefined
  if (refusal.status === 403 && refusal.bearerError === undefined) return undefined
  let value = `Bearer realm="${realm}"`
  if (refusal.bearerError !== undefined) value += `, error="${refusal.bearerError}"`
  if (refusal.scope !== undefined) value += `, scope="${refusal.scope}"`
  if (refusal.acrValues !== undefined) value += `, acr_values="${refusal.acrValues}"`
  return value
}

/** Sends the refusal; returns the reply so that an async hook can return it and end the request. */
export function refuse (request: FastifyRequest, reply: FastifyReply, realm: string, refusal: Refusal): FastifyReply {
  const challenge = wwwAuthenticate(realm, refusal)
  if (challenge !== undefined) reply.header('www-authenticate', challenge)
  if (refusal.status === 503) reply.header('retry-after', '5')
  // Sent pre-serialised so that the route's response schemas cannot reshape it.
  return reply.code(refusal.status).type('application/problem+json; charset=utf-8').send(JSON.stringify({
    type: 'about:blank',
    title: STATUS_CODES[refusal.status],
    status: refusal.status,
    code: refusal.code,
    detail: refusal.detail,
    instance: request.url.split('?')[0]
  }))
}
