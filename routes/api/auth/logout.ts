// POST /api/auth/logout (this session) and POST /api/auth/logout/all (every session of the user).
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { emptyBodyAsObject } from '../../../src/http/optional-body.js'
import { RefreshTokenField, refreshTokenBodyOptions } from '../../../src/schemas/fields.js'
import { problems, RATE_LIMITED, TOO_LARGE, UNAUTHENTICATED, UNSUPPORTED, VALIDATION } from '../../../src/schemas/responses.js'
import { logout, logoutAll } from '../../../src/sessions/sessions.js'

export const LogoutBody = Type.Object({
  refresh: Type.Optional(RefreshTokenField)
}, refreshTokenBodyOptions)

const NoContent = Type.Null({ description: 'Done. The refresh cookie is expired.' })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/logout', {
    schema: {
      operationId: 'logout',
      summary: 'Log out this session',
      description: 'Revokes the session of the given refresh token (cookie or body) and expires the cookie. Idempotent: an unknown, expired or missing token also answers 204.',
      tags: ['auth'],
      security: [{ refreshCookie: [] }, {}],
      body: LogoutBody,
      response: {
        204: NoContent,
        ...problems(VALIDATION, [403, '`csrf_failed`: the cookie was sent from an origin that is not allowed.'], TOO_LARGE, UNSUPPORTED, RATE_LIMITED)
      }
    },
    // Like refresh: anyone may call it, and each call looks a token up.
    config: { rateLimit: fastify.perIpLimit(fastify.config.rateLimits.refreshPerIp) },
    preValidation: emptyBodyAsObject
  }, async (request, reply) => {
    const presented = fastify.presentedRefreshToken(request, request.body.refresh)
    if (presented !== undefined) await logout(fastify.auth, presented)
    return reply.clearRefreshCookie().code(204).send()
  })

  fastify.post('/logout/all', {
    schema: {
      operationId: 'logoutAll',
      summary: 'Log out every session',
      description: 'Revokes every refresh token of the signed-in user, on every device.',
      tags: ['auth'],
      security: [{ bearerAuth: [] }],
      response: {
        204: NoContent,
        ...problems(UNAUTHENTICATED)
      }
    },
    onRequest: [fastify.authenticate]
  }, async (request, reply) => {
    await logoutAll(fastify.auth, request.principal!.user.id)
    return reply.clearRefreshCookie().code(204).send()
  })
}

export default route
