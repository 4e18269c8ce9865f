// Security headers on every answer (helmet, set for an API that serves JSON, plus the Swagger UI
// pages), and no caching or Referer leaks for answers to URLs that carry a secret.
import type { IncomingMessage, ServerResponse } from 'node:http'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'

/** Query parameters that carry a secret: a one-time token, an authorization code, a login state. */
const SECRET_PARAMETERS = ['token', 'code', 'state', 'access_token', 'refresh', 'refresh_token', 'id_token', 'mfa_token']

function carriesSecret (url: string): boolean {
  const query = url.indexOf('?')
  if (query === -1) return false
  const params = new URLSearchParams(url.slice(query + 1))
  return SECRET_PARAMETERS.some(name => params.has(name))
}

/** The Swagger UI's own paths (the document itself is JSON and keeps the API's policy). */
function isDocsPage (url: string): boolean {
  return url === '/docs' || (url.startsWith('/docs/') && url !== '/docs/json' && url !== '/docs/yaml')
}

/**
 * The headers helmet sets for `options`, computed once. They depend on nothing in the request (no
 * CSP nonces, no directive functions), and @fastify/helmet rebuilt the middleware, parsing every
 * directive again, on each request: about 5 % of the CPU of a `GET /api/auth/me`.
 */
function helmetHeaders (options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader (name: string, value: string) { headers[name.toLowerCase()] = value },
    removeHeader (name: string) { delete headers[name.toLowerCase()] }
  }
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => {})
  return headers
}

export default fp(async function securityHeaders (fastify) {
  const { publicUrl } = fastify.config
  // JSON answers load nothing and belong in no frame: everything is refused.
  const apiPolicy = {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] }
  }
  // Swagger UI: its scripts, styles, fonts and images from here. It has no inline script, but it
  // applies an inline style (blocked without 'unsafe-inline' for styles, seen in Chromium) and draws
  // icons from data: URLs; "Try it out" calls the API at its public address. Still no framing,
  // no plugins, no forms.
  const docsPolicy = {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'", new URL(publicUrl).origin],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      objectSrc: ["'none'"]
    }
  }

  const common: HelmetOptions = {
    frameguard: { action: 'deny' },
    // HSTS only where the service is served over https (PUBLIC_URL): on a plain-http development
    // address browsers ignore it. Not includeSubDomains: the service cannot speak for its siblings.
    strictTransportSecurity: publicUrl.startsWith('https:') ? { maxAge: 31536000, includeSubDomains: false } : false,
    // No page of the service needs to send a Referer anywhere, and some URLs carry a secret.
    referrerPolicy: { policy: 'no-referrer' },
    // The JWKS and the API are read with fetch (CORS applies there); nothing here is meant to be
    // embedded by other sites' <img> or <script>.
    crossOriginResourcePolicy: { policy: 'same-origin' }
  }
  const apiHeaders = helmetHeaders({ ...common, contentSecurityPolicy: apiPolicy })
  const docsHeaders = helmetHeaders({ ...common, contentSecurityPolicy: docsPolicy })

  // Before any handler, so that refusals (400, 404, 429) carry the headers too, and those of a URL
  // that carries a secret are not stored nor leak it in a Referer.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.headers(isDocsPage(request.routeOptions.url ?? '') ? docsHeaders : apiHeaders)
    if (carriesSecret(request.url)) reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer')
    done()
  })
}, { name: 'security-headers', dependencies: ['config'] })
