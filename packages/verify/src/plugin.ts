// The Fastify plugin for downstream services: Bearer tokens verified offline, revocations polled.
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import type { VerifiedToken } from './claims.js'
import { TokenInvalidError } from './errors.js'
import { refusals, type Refusal } from './problems.js'
import { createRevocationFeed, type RevocationFeed, type RevocationFeedOptions } from './revocation-feed.js'
import { verifyAccessToken, type VerifyOptions } from './verify-token.js'

export interface PortcullisVerifyOptions extends Omit<VerifyOptions, 'revocations'> {
  /** Poll the revocation feed; `url` defaults to `<issuer>/api/auth/revocations`. Without it, a token lives until it expires. */
  revocations?: Omit<RevocationFeedOptions, 'url' | 'logger'> & { url?: string }
  /** The realm of WWW-Authenticate challenges; default "api". */
  realm?: string
}

export type Authentication = { token: VerifiedToken, refusal?: undefined } | { token?: undefined, refusal: Refusal }

export interface PortcullisVerifier {
  /** Verifies a token (with the revocations); throws TokenInvalidError or VerifierUnavailableError. */
  verify (token: string): Promise<VerifiedToken>
  /** Reads and verifies the request's Bearer token: the claims, or the refusal to send. */
  authenticate (request: FastifyRequest): Promise<Authentication>
  /** The revocation feed, when configured. */
  revocations: RevocationFeed | undefined
  realm: string
}

declare module 'fastify' {
  interface FastifyInstance {
    portcullis: PortcullisVerifier
  }
  interface FastifyRequest {
    /** The verified token, once a guard has run; null before. */
    accessToken: VerifiedToken | null
  }
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

export default fp<PortcullisVerifyOptions>(async function portcullisVerify (fastify, options) {
  const { revocations: feedOptions, realm = 'api', ...verifyOptions } = options
  if (!verifyOptions.issuer || !verifyOptions.audience) throw new Error('portcullis-verify needs `issuer` and `audience`')

  const feed = feedOptions === undefined
    ? undefined
    : createRevocationFeed({
      ...feedOptions,
      url: feedOptions.url ?? `${verifyOptions.issuer.replace(/\/+$/, '')}/api/auth/revocations`,
      logger: fastify.log
    })
  const resolved: VerifyOptions = { ...verifyOptions, ...(feed !== undefined && { revocations: feed }) }

  async function authenticate (request: FastifyRequest): Promise<Authentication> {
    const header = request.headers.authorization
    if (header === undefined || !/^Bearer(\s|$)/i.test(header)) return { refusal: refusals.notAuthenticated() }
    const match = BEARER.exec(header)
    if (match === null) return { refusal: refusals.tokenNotValid('The Authorization header must be "Bearer <token>".') }
    try {
      return { token: await verifyAccessToken(match[1], resolved) }
    } catch (err) {
      if (err instanceof TokenInvalidError) {
        request.log.info({ reason: err.reason }, 'access token refused')
        return { refusal: refusals.tokenNotValid() }
      }
      request.log.error({ err }, 'access token could not be verified')
      return { refusal: refusals.unavailable() }
    }
  }

  fastify.decorate('portcullis', {
    verify: (token: string) => verifyAccessToken(token, resolved),
    authenticate,
    revocations: feed,
    realm
  })
  fastify.decorateRequest('accessToken', null)

  if (feed !== undefined) {
    // The first poll before the first request; a feed that is down only delays the revocations.
    fastify.addHook('onReady', async () => { await feed.start() })
    fastify.addHook('onClose', async () => { await feed.close() })
  }
}, { name: 'portcullis-verify', fastify: '5.x' })
