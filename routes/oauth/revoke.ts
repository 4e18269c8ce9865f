// POST /oauth/revoke: token revocation (RFC 7009) for authenticated clients.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import oauthEndpoint from '../../plugins/oauth-endpoint.js'
import { clientCredentials } from '../../src/oauth/client-credentials.js'
import {
  ClientAuthFields, OAUTH_BODY_NOTE, OAUTH_CONSUMES, OAUTH_INVALID_CLIENT, OAUTH_RATE_LIMITED, OAUTH_TOO_LARGE,
  OAUTH_UNSUPPORTED, oauthErrors, TokenParameters
} from '../../src/schemas/oauth.js'
import { authenticateClient } from '../../src/oauth/service-clients.js'
import { revokeToken } from '../../src/oauth/revocation.js'

export const RevokeBody = Type.Object({ ...TokenParameters, ...ClientAuthFields }, {
  description: OAUTH_BODY_NOTE,
  examples: [{ token: 'q3V9…', token_type_hint: 'refresh_token' }]
})

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  await fastify.register(oauthEndpoint)

  fastify.post('/revoke', {
    schema: {
      operationId: 'oauthRevoke',
      summary: 'Revoke a token (RFC 7009)',
      description: 'A refresh token or a user access token ends its session (every token of it; the revocation feed names the session). A client access token is revoked on its own, and only by the client it was issued to. User tokens were issued to no client, so any registered client may revoke them. An unknown, invalid or already dead token is a success too (RFC 7009 §2.2). The client authenticates as for `/oauth/token`.',
      tags: ['oauth'],
      security: [{ clientBasic: [] }, {}],
      consumes: OAUTH_CONSUMES,
      body: RevokeBody,
      response: {
        200: Type.Object({}, { additionalProperties: false, description: 'Revoked, or there was nothing live to revoke.' }),
        ...oauthErrors(
          [400, '`invalid_request` (no `token`, a malformed body, both Basic and body credentials) or `unauthorized_client` (a client token of another client).'],
          OAUTH_INVALID_CLIENT, OAUTH_TOO_LARGE, OAUTH_UNSUPPORTED, OAUTH_RATE_LIMITED)
      }
    },
    config: { rateLimit: fastify.perIpLimit(fastify.config.rateLimits.oauthPerIp) }
  }, async (request, reply) => {
    const client = await authenticateClient(fastify.oauth, clientCredentials(request.headers.authorization, request.body))
    await revokeToken(fastify.oauth, client, request.body.token)
    return reply.headers({ 'cache-control': 'no-store' }).send({})
  })
}

export default route
