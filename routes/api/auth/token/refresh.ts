// POST /api/auth/token/refresh: rotate a refresh token (from the cookie or the body) into a new pair.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { clientInfo } from '../../../../src/http/client-info.js'
import { errors, ProblemError } from '../../../../src/errors.js'
import { emptyBodyAsObject } from '../../../../src/http/optional-body.js'
import { RefreshTokenField, refreshTokenBodyOptions } from '../../../../src/schemas/fields.js'
import { problems, RATE_LIMITED, TOO_LARGE, UNSUPPORTED } from '../../../../src/schemas/responses.js'
import { ref, TokenPair } from '../../../../src/schemas/shared.js'
import { refresh } from '../../../../src/sessions/sessions.js'
import { exchangeDjangoRefresh, looksLikeJwt } from '../../../../src/django/cutover.js'

export const RefreshBody = Type.Object({
  refresh: Type.Optional(RefreshTokenField)
}, refreshTokenBodyOptions)

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/refresh', {
    schema: {
      operationId: 'refreshToken',
      summary: 'Exchange a refresh token for a new token pair',
      description: 'During the cut-over from Django (`DJANGO_SECRET_KEY`), a refresh token the Django deployment minted is exchanged once for a new session. The presented refresh token is rotated: the answer carries a new one and the old one is dead. Presenting a rotated token again revokes the whole session, except within a short grace window after its rotation, which returns the same successor (racing tabs, lost responses). A request that uses the cookie and sends an `Origin` that is not allowed, or `Sec-Fetch-Site: cross-site` (or `same-site` without an allowed `Origin`), is refused with `csrf_failed`.',
      tags: ['auth'],
      security: [{ refreshCookie: [] }, {}],
      body: RefreshBody,
      response: {
        200: { ...ref(TokenPair), description: 'A new pair. Sets the new `refresh_token` cookie; `Cache-Control: no-store`.' },
        ...problems(
          [400, '`validation_failed`: no refresh token in the cookie or the body, or unknown fields.'],
          [401, '`token_not_valid`: unknown, expired, revoked or reused refresh token, or a disabled account.'],
          [403, '`csrf_failed`: the cookie was sent from an origin that is not allowed, or with `Sec-Fetch-Site: cross-site` (or `same-site` without an allowed `Origin`).'],
          TOO_LARGE, UNSUPPORTED, RATE_LIMITED)
      }
    },
    config: { rateLimit: fastify.perIpLimit(fastify.config.rateLimits.refreshPerIp) },
    preValidation: emptyBodyAsObject
  }, async (request, reply) => {
    const presented = fastify.presentedRefreshToken(request, request.body.refresh)
    if (presented === undefined) {
      throw errors.validation([{ field: 'refresh', message: 'is required (as the refresh_token cookie or in the body)' }], 'No refresh token was provided.')
    }
    try {
      if (fastify.config.django.cutover !== undefined && looksLikeJwt(presented)) {
        // The cut-over: a refresh token the Django deployment minted, exchanged once for a session here.
        const { user: _user, sessionId: _sessionId, ...pair } = await exchangeDjangoRefresh(fastify.auth, presented, clientInfo(request))
        return reply.deliverTokens(pair)
      }
      const { refreshExpiresIn, ...pair } = await refresh(fastify.auth, presented, clientInfo(request))
      return reply.deliverTokens(pair, refreshExpiresIn)
    } catch (err) {
      // A dead token is useless to the browser: drop the cookie so it stops sending it. Only then: a
      // server error (a busy database, 503) says nothing about the token, which works again later.
      if (err instanceof ProblemError && err.code === 'token_not_valid') reply.clearRefreshCookie()
      throw err
    }
  })
}

export default route
