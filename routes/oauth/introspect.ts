// POST /oauth/introspect: token introspection (RFC 7662) for authenticated clients.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import oauthEndpoint from '../../plugins/oauth-endpoint.js'
import { clientCredentials } from '../../src/oauth/client-credentials.js'
import { introspect } from '../../src/oauth/introspection.js'
import {
  ClientAuthFields, OAUTH_BODY_NOTE, OAUTH_CONSUMES, OAUTH_INVALID_CLIENT, OAUTH_INVALID_REQUEST, OAUTH_RATE_LIMITED,
  OAUTH_TOO_LARGE, OAUTH_UNSUPPORTED, oauthErrors, TokenParameters
} from '../../src/schemas/oauth.js'
import { authenticateClient } from '../../src/oauth/service-clients.js'

export const IntrospectBody = Type.Object({ ...TokenParameters, ...ClientAuthFields }, {
  description: OAUTH_BODY_NOTE,
  examples: [{ token: 'eyJhbGciOiJSUzI1NiIsImtpZCI6Ij…', token_type_hint: 'access_token' }]
})

export const IntrospectionResponse = Type.Object({
  active: Type.Boolean({ description: 'Whether the token is live: valid, unexpired, not revoked, its session live and its account able (user tokens), its client still registered (client tokens), not rotated (refresh tokens). Nothing else is present when false.' }),
  token_type: Type.Optional(Type.Union([Type.Literal('access_token'), Type.Literal('refresh_token')], { description: 'Which kind of token it is.' })),
  sub: Type.Optional(Type.String({ description: 'The user id, or the client id for a client token.' })),
  client_id: Type.Optional(Type.String({ description: 'Client tokens only: the client it was issued to.' })),
  scope: Type.Optional(Type.String({ description: 'Client tokens only: the granted scopes, space-separated.' })),
  username: Type.Optional(Type.String({ description: 'User tokens only: the user\'s current username.' })),
  sid: Type.Optional(Type.String({ description: 'User tokens only: the session id.' })),
  exp: Type.Optional(Type.Integer({ description: 'Expiry, seconds since the epoch.' })),
  iat: Type.Optional(Type.Integer({ description: 'Issue time, seconds since the epoch.' })),
  iss: Type.Optional(Type.String({ description: 'Access tokens only: the issuer.' })),
  aud: Type.Optional(Type.String({ description: 'Access tokens only: the audience.' })),
  jti: Type.Optional(Type.String({ description: 'Access tokens only: the token id.' }))
}, { additionalProperties: false, examples: [{ active: true, token_type: 'access_token', sub: '0f8e2b1c-3c57-4b4e-9a61-5b1f0c2d7e90', client_id: '0f8e2b1c-3c57-4b4e-9a61-5b1f0c2d7e90', scope: 'orders.read', exp: 1767225900, iat: 1767225600 }, { active: false }] })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  await fastify.register(oauthEndpoint)

  fastify.post('/introspect', {
    schema: {
      operationId: 'oauthIntrospect',
      summary: 'Introspect a token (RFC 7662)',
      description: 'Any registered client may introspect any Portcullis token: user access tokens, client access tokens and refresh tokens. A token that is not live (invalid, expired, revoked, of a banned or deleted user, of a deleted client, rotated) is `{active: false}`, never an error. The client authenticates as for `/oauth/token`.',
      tags: ['oauth'],
      security: [{ clientBasic: [] }, {}],
      consumes: OAUTH_CONSUMES,
      body: IntrospectBody,
      response: {
        200: { ...IntrospectionResponse, description: 'The token\'s state.' },
        ...oauthErrors(OAUTH_INVALID_REQUEST, OAUTH_INVALID_CLIENT, OAUTH_TOO_LARGE, OAUTH_UNSUPPORTED, OAUTH_RATE_LIMITED)
      }
    },
    config: { rateLimit: fastify.perIpLimit(fastify.config.rateLimits.oauthPerIp) }
  }, async (request, reply) => {
    await authenticateClient(fastify.oauth, clientCredentials(request.headers.authorization, request.body))
    return reply.headers({ 'cache-control': 'no-store', pragma: 'no-cache' }).send(await introspect(fastify.oauth, request.body.token))
  })
}

export default route
