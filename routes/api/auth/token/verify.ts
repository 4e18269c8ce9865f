// POST /api/auth/token/verify: is this access token valid and its session still live?
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '../../../../src/errors.js'
import { bodyErrors, problems, RATE_LIMITED } from '../../../../src/schemas/responses.js'
import { ACCESS_TOKEN_EXAMPLE } from '../../../../src/schemas/shared.js'

export const VerifyBody = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 8192, description: 'An access token.', examples: [ACCESS_TOKEN_EXAMPLE] })
}, { additionalProperties: false })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/verify', {
    schema: {
      operationId: 'verifyToken',
      summary: 'Check an access token',
      description: 'Answers `200 {}` for a valid access token whose session is live and whose account is active; anything else, including a refresh token, is `401 token_not_valid`.',
      tags: ['auth'],
      body: VerifyBody,
      response: {
        200: Type.Object({}, { additionalProperties: false, description: 'The token is valid.' }),
        ...problems(...bodyErrors, [401, '`token_not_valid`.'], RATE_LIMITED)
      }
    },
    config: { rateLimit: fastify.perIpLimit(fastify.config.rateLimits.verifyPerIp) }
  }, async (request) => {
    try {
      await fastify.loadPrincipal(await fastify.verifyAccessToken(request.body.token))
    } catch {
      throw errors.tokenNotValid()
    }
    return {}
  })
}

export default route
