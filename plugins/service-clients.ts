// Service clients: the client-token verifier, the OAuth domain's dependencies, and the guard that
// authenticates a client (HTTP Basic credentials or a client access token) outside the OAuth endpoints.
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import type { ServiceClientRecord } from '../db/repositories.js'
import { basicCredentials } from '../src/oauth/client-credentials.js'
import { clientTokenFrom } from '../src/oauth/client-tokens.js'
import { errors } from '../src/errors.js'
import { liveClientToken } from '../src/oauth/introspection.js'
import type { OAuthDeps } from '../src/oauth/deps.js'
import { OAuthError } from '../src/oauth/errors.js'
import { authenticateClient } from '../src/oauth/service-clients.js'

declare module 'fastify' {
  interface FastifyInstance {
    oauth: OAuthDeps
    /** Guard: a registered client, by `Authorization: Basic` credentials or a client access token as Bearer. */
    authenticateServiceClient (request: FastifyRequest): Promise<void>
  }
  interface FastifyRequest {
    /** Set by `authenticateServiceClient`. */
    serviceClient: ServiceClientRecord | null
  }
}

const BEARER = /^Bearer +(\S+) *$/i

export default fp(async function serviceClients (fastify) {
  // The same key ring and checks as user tokens (algorithm per key, iss, aud, typ, exp); then the client shape.
  const verifyClientToken = async (token: string) => clientTokenFrom(await fastify.verifySignedToken(token))
  const oauth: OAuthDeps = {
    ...fastify.auth,
    verifyUserToken: token => fastify.verifyAccessToken(token),
    loadPrincipal: claims => fastify.loadPrincipal(claims),
    verifyClientToken
  }
  fastify.decorate('oauth', oauth)
  fastify.decorateRequest('serviceClient', null)

  fastify.decorate('authenticateServiceClient', async function (request: FastifyRequest) {
    const header = request.headers.authorization
    if (header === undefined) throw errors.notAuthenticated()
    if (/^Basic(\s|$)/i.test(header)) {
      try {
        request.serviceClient = await authenticateClient(oauth, basicCredentials(header)!)
      } catch (err) {
        // Outside the OAuth endpoints errors are problem+json, with the same code and challenge.
        if (err instanceof OAuthError) throw errors.invalidClient(err.message)
        throw err
      }
      return
    }
    const match = BEARER.exec(header)
    if (match === null) throw errors.notAuthenticated()
    const live = await liveClientToken(oauth, match[1])
    if (live === undefined) throw errors.tokenNotValid('A live client access token (from POST /oauth/token) is required.')
    request.serviceClient = live.client
  })
}, { name: 'service-clients', dependencies: ['config', 'keys', 'auth', 'authenticate'] })
