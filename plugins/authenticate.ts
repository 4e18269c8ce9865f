// The `authenticate` guard: a valid access token in `Authorization: Bearer`, a live session, an able account.
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Authorization, UserSummary } from '../db/repositories.js'
import { canAuthenticate } from '../src/accounts/state.js'
import { errors } from '../src/errors.js'
import type { VerifiedAccessToken } from './keys.js'
import { setAuditActor } from '../src/audit/events.js'
import { mfaRequiredOf } from '../src/mfa/assurance.js'
import { hasSecondFactor } from '../src/mfa/second-factor.js'

export interface Principal {
  user: UserSummary
  /** Groups and effective permissions as the database has them now (not as the token claims). */
  authorization: Authorization
  /** Linked social login providers, sorted. */
  providers: string[]
  sessionId: string
  claims: VerifiedAccessToken
}

declare module 'fastify' {
  interface FastifyInstance {
    authenticate (request: FastifyRequest, reply: FastifyReply): Promise<void>
    /** The live session and able user behind verified claims; throws token_not_valid or user_inactive. */
    loadPrincipal (claims: VerifiedAccessToken): Promise<Principal>
  }
  interface FastifyContextConfig {
    /** A route a user must reach to set up a second factor: MFA_REQUIRED_FOR=all does not close it. */
    mfaEnrolment?: boolean
  }
  interface FastifyRequest {
    /** Set by `authenticate`; routes behind the guard read it with `request.principal!`. */
    principal: Principal | null
  }
}

const BEARER = /^Bearer +(\S+) *$/i

export default fp(async function authenticate (fastify) {
  fastify.decorateRequest('principal', null)

  fastify.decorate('authenticate', async function (request: FastifyRequest) {
    const header = request.headers.authorization
    if (header === undefined || !/^Bearer(\s|$)/i.test(header)) throw errors.notAuthenticated()
    if (!BEARER.test(header)) throw errors.tokenNotValid('The Authorization header must be "Bearer <token>".')

    let claims: VerifiedAccessToken
    try {
      claims = await fastify.verifyAccessToken(header.slice(header.indexOf(' ')).trim())
    } catch {
      throw errors.tokenNotValid()
    }
    request.principal = await fastify.loadPrincipal(claims)
    setAuditActor('user', request.principal.user.id)
    await enforceMfaPolicy(request)
  })

  // MFA_REQUIRED_FOR: a user in scope without a second factor may log in and set one up, but not
  // administer (for `all`, not use any protected operation). One query, only for users in scope.
  const policy = fastify.config.mfaRequiredFor
  async function enforceMfaPolicy (request: FastifyRequest): Promise<void> {
    const { user } = request.principal!
    if (!mfaRequiredOf(policy, user) || request.routeOptions.config.mfaEnrolment === true) return
    const closed = policy === 'all' || (request.routeOptions.url ?? '').startsWith('/api/admin/')
    if (closed && !await hasSecondFactor(fastify.auth, user.id)) throw errors.mfaEnrolmentRequired()
  }

  fastify.decorate('loadPrincipal', async function (claims: VerifiedAccessToken): Promise<Principal> {
    if (claims.token_type !== 'access') throw errors.tokenNotValid('The token is not an access token.')
    // Portcullis checks its own state, not the claims: a logout, ban or deletion applies at once here.
    const found = await fastify.repositories.sessions.findAuthState(claims.sid)
    if (found === undefined || found.user.id !== claims.sub) {
      const user = await fastify.repositories.users.findById(claims.sub)
      throw user === undefined ? errors.userInactive() : errors.tokenNotValid('The session of this token has ended.')
    }
    const now = fastify.auth.now()
    if (!canAuthenticate(found.user, now)) throw errors.userInactive()
    if (found.session.revokedAt !== null) throw errors.tokenNotValid('The session of this token has been revoked.')
    if (found.session.expiresAt <= now) throw errors.tokenNotValid('The session of this token has expired.')
    return { user: found.user, authorization: found.authorization, providers: found.providers, sessionId: found.session.id, claims }
  })
}, { name: 'authenticate', dependencies: ['keys', 'db', 'auth'] })
