// POST /oauth/token: the client credentials grant (RFC 6749 §4.4).
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import oauthEndpoint from '../../plugins/oauth-endpoint.js'
import { clientCredentials } from '../../src/oauth/client-credentials.js'
import { issueClientToken } from '../../src/oauth/client-credentials-grant.js'
import {
  ClientAuthFields, OAUTH_BODY_NOTE, OAUTH_CONSUMES, OAUTH_INVALID_CLIENT, OAUTH_RATE_LIMITED, OAUTH_TOO_LARGE,
  OAUTH_UNSUPPORTED, oauthErrors
} from '../../src/schemas/oauth.js'
import { authenticateClient } from '../../src/oauth/service-clients.js'
import { ACCESS_TOKEN_EXAMPLE } from '../../src/schemas/shared.js'

export const TokenBody = Type.Object({
  grant_type: Type.String({ maxLength: 100, description: 'Must be `client_credentials`.', examples: ['client_credentials'] }),
  scope: Type.Optional(Type.String({ maxLength: 5100, description: 'Space-separated scopes, each one of the client\'s; leave out for all of them.', examples: ['orders.read orders.write'] })),
  ...ClientAuthFields
}, { description: OAUTH_BODY_NOTE, examples: [{ grant_type: 'client_credentials', scope: 'orders.read' }] })

export const TokenResponse = Type.Object({
  access_token: Type.String({ description: 'A JWT (`typ: at+jwt`) signed like user access tokens: `sub` and `client_id` are the client id, `scope` the granted scopes; no user claims.', examples: [ACCESS_TOKEN_EXAMPLE] }),
  token_type: Type.Literal('Bearer', { description: 'Always `Bearer`.' }),
  expires_in: Type.Integer({ description: 'Seconds until the token expires.', examples: [300] }),
  scope: Type.String({ description: 'The granted scopes, space-separated (empty for a client without scopes).', examples: ['orders.read'] })
}, { additionalProperties: false })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  await fastify.register(oauthEndpoint)

  fastify.post('/token', {
    schema: {
      operationId: 'oauthToken',
      summary: 'Get a client access token (client credentials grant)',
      description: 'RFC 6749 §4.4. The client authenticates with HTTP Basic (RFC 6749 §2.3.1: the form-encoded id and secret) or with `client_id` and `client_secret` in the body, not both. Errors are RFC 6749 §5.2 `{error, error_description}`, not problem+json. The token is refused by Portcullis\'s own user endpoints.',
      tags: ['oauth'],
      security: [{ clientBasic: [] }, {}],
      consumes: OAUTH_CONSUMES,
      body: TokenBody,
      response: {
        200: { ...TokenResponse, description: 'The token. Sent with `Cache-Control: no-store`.' },
        ...oauthErrors(
          [400, '`invalid_request` (a missing or malformed parameter, both Basic and body credentials), `unsupported_grant_type` (anything but `client_credentials`) or `invalid_scope` (a scope the client does not have, or malformed).'],
          OAUTH_INVALID_CLIENT, OAUTH_TOO_LARGE, OAUTH_UNSUPPORTED, OAUTH_RATE_LIMITED)
      }
    },
    config: { rateLimit: fastify.perIpLimit(fastify.config.rateLimits.oauthPerIp) }
  }, async (request, reply) => {
    const credentials = clientCredentials(request.headers.authorization, request.body)
    const client = await authenticateClient(fastify.auth, credentials)
    const token = await issueClientToken(fastify.auth, client, request.body.grant_type, request.body.scope)
    return reply.headers({ 'cache-control': 'no-store', pragma: 'no-cache' }).send(token)
  })
}

export default route
