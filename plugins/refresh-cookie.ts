// The refresh-token cookie: setting and expiring it, reading the token from cookie or body, and the
// Origin check that stops other sites from spending the cookie (CSRF).
import fp from 'fastify-plugin'
import cookie from '@fastify/cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { errors } from '../src/errors.js'
import { trustedOrigins } from '../src/http/origins.js'

export const REFRESH_COOKIE = 'refresh_token'
// Scoped to the auth endpoints: the token is never sent to the rest of the API.
const COOKIE_PATH = '/api/auth'

declare module 'fastify' {
  interface FastifyInstance {
    /** The refresh token from the body if given, otherwise from the cookie (after the Origin check). */
    presentedRefreshToken (request: FastifyRequest, bodyToken: string | undefined): string | undefined
  }
  interface FastifyReply {
    clearRefreshCookie (): FastifyReply
    /**
     * Sets the refresh cookie and `Cache-Control: no-store`, and returns the body to send: without
     * `refresh` when the deployment delivers it by cookie only. The cookie lives `refreshExpiresIn`
     * seconds (the token's remaining lifetime), by default a full refresh lifetime.
     */
    deliverTokens<T extends { refresh: string }> (body: T, refreshExpiresIn?: number): Omit<T, 'refresh'> & { refresh?: string }
  }
}

export default fp(async function refreshCookie (fastify) {
  const { config } = fastify
  const allowedOrigins = trustedOrigins(config)
  const attributes = {
    httpOnly: true,
    secure: config.cookieSecure,
    sameSite: 'strict' as const,
    path: COOKIE_PATH
  }

  await fastify.register(cookie)

  fastify.decorateReply('deliverTokens', function <T extends { refresh: string }>(this: FastifyReply, body: T, refreshExpiresIn = config.refreshTokenTtl) {
    this.setCookie(REFRESH_COOKIE, body.refresh, { ...attributes, maxAge: refreshExpiresIn })
    this.header('cache-control', 'no-store').header('pragma', 'no-cache')
    if (config.refreshTokenInBody) return body
    const { refresh: _omitted, ...rest } = body
    return rest
  })
  // clearCookie must repeat the path (and flags) the cookie was set with, or browsers keep it.
  fastify.decorateReply('clearRefreshCookie', function (this: FastifyReply) {
    return this.clearCookie(REFRESH_COOKIE, { ...attributes, maxAge: 0, expires: new Date(0) })
  })

  fastify.decorate('presentedRefreshToken', (request: FastifyRequest, bodyToken: string | undefined) => {
    if (bodyToken !== undefined) return bodyToken
    const fromCookie = request.cookies[REFRESH_COOKIE]
    if (fromCookie === undefined || fromCookie === '') return undefined
    const origin = request.headers.origin
    if (origin !== undefined && !allowedOrigins.has(origin)) throw errors.csrfFailed()
    // Defence in depth for a request without Origin: the browser's own Sec-Fetch-Site. A cross-site
    // request never legitimately carries this SameSite=Strict cookie; a same-site one (a sibling
    // subdomain, another port) only from an allowed origin, which a browser names in Origin.
    const site = request.headers['sec-fetch-site']
    if (site === 'cross-site' || (site === 'same-site' && origin === undefined)) throw errors.csrfFailed()
    return fromCookie
  })
}, { name: 'refresh-cookie', dependencies: ['config'] })
