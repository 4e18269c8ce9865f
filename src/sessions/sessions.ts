// sessions/: login, access and refresh tokens, rotation, logout and the revocation feed.
// Login, refresh-token rotation, logout and the session list: the rules behind the token endpoints.
import { randomUUID } from 'node:crypto'
import { AccountChanged, type Authorization, type SessionRecord, type UserRecord } from '../../db/repositories.js'
import { accessTokenClaims } from './access-tokens.js'
import { canAuthenticate, isBanned } from '../accounts/state.js'
import type { AuthDeps, ClientInfo } from '../deps.js'
import { errors } from '../errors.js'
import { asLockout, withSecurityEvent } from '../http/security-events.js'
import { normaliseEmail, usernameKey } from '../accounts/identifiers.js'
import { hashOpaqueToken, newOpaqueToken } from './opaque-tokens.js'
import { openSuccessor, sealSuccessor } from './refresh-tokens.js'
import { loadUserExtras, userView, type UserView } from '../accounts/user-view.js'
import { accountThrottleKey, checkPassword } from '../limits/password-check.js'
import { auditEvent, sessionRevoked } from '../audit/events.js'
import { recordFailedLogin } from '../audit/failed-logins.js'
import { requireSecondFactor, type MfaRequired } from '../mfa/second-factor.js'

export interface TokenPair {
  access: string
  refresh: string
  token_type: 'Bearer'
  /** Seconds until the access token expires. */
  expires_in: number
}

export interface LoginResult extends TokenPair {
  user: UserView
  sessionId: string
}

export type Credentials = { email: string, password: string } | { username: string, password: string }

function addSeconds (date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000)
}

async function tokenPair (deps: AuthDeps, user: UserRecord, sessionId: string, refresh: string, authorization: Authorization, amr: string[]): Promise<TokenPair> {
  const access = await deps.signAccessToken(accessTokenClaims(user, sessionId, authorization, amr))
  return { access, refresh, token_type: 'Bearer', expires_in: deps.config.accessTokenTtl }
}

async function findByCredentials (deps: AuthDeps, credentials: Credentials): Promise<UserRecord | undefined> {
  const { users } = deps.repositories
  return 'email' in credentials
    ? users.findByEmail(normaliseEmail(credentials.email))
    : users.findByUsername(credentials.username)
}

/** The key login failures are counted under: the account when it exists, else what was typed. */
function throttleKey (credentials: Credentials, found: UserRecord | undefined): string {
  if (found !== undefined) return accountThrottleKey(found.id)
  return 'email' in credentials ? `email:${normaliseEmail(credentials.email)}` : `username:${usernameKey(credentials.username)}`
}

/**
 * A password login: tokens, or, for an account with a second factor, an mfa_token to finish the
 * login with (POST /api/auth/mfa/verify).
 */
export async function login (deps: AuthDeps, credentials: Credentials, client: ClientInfo): Promise<LoginResult | MfaRequired> {
  const now = deps.now()
  const found = await findByCredentials(deps, credentials)
  // Counted before the password is checked: while limited, the right and the wrong password look
  // the same. Always one full bcrypt compare, against a dummy hash for an unknown account, so that
  // an unknown email and a wrong password cannot be told apart by answer or by time.
  const source = { accountKey: throttleKey(credentials, found), ip: client.ip ?? 'unknown', now }
  const passwordMatches = await checkPassword(deps, source, credentials.password, found?.passwordHash)
    .catch(async (err: unknown) => {
      if ((err as { code?: unknown }).code === 'rate_limited') await recordFailedLogin(deps, found?.id, client.ip, true)
      throw asLockout(err, found?.id)
    })
  if (found === undefined || !passwordMatches) {
    await recordFailedLogin(deps, found?.id, client.ip, false)
    throw withSecurityEvent(errors.invalidCredentials(), { event: 'login_failed', ...(found !== undefined && { accountId: found.id }) })
  }

  // Account state is revealed only to someone who knows the password.
  assertMayLogIn(deps, found, now)

  // The password alone opens no session of an account with a second factor. (Its hash is then
  // upgraded at a later login without one, if ever: an mfa_token carries no password.)
  const mfa = await requireSecondFactor(deps, found.id, ['pwd'], found.passwordHash)
  if (mfa !== undefined) return mfa

  const upgradedPasswordHash = found.passwordHash !== null && deps.hasher.needsRehash(found.passwordHash)
    ? await deps.hasher.hash(credentials.password)
    : undefined
  return startSession(deps, found, client, { verifiedHash: found.passwordHash, upgradedHash: upgradedPasswordHash })
}

/** The account-state rules of every login, by password or by provider: banned, disabled, unverified. */
export function assertMayLogIn (deps: AuthDeps, user: UserRecord, now: Date): void {
  if (isBanned(user, now)) throw errors.accountBanned()
  if (!user.isActive) throw errors.accountDisabled()
  if (deps.config.requireEmailVerification && !user.emailVerified) throw errors.emailNotVerified()
}

/** The password a login verified: the hash it matched, and a stronger hash of it to store, if due. */
export interface VerifiedPassword {
  verifiedHash: string | null
  upgradedHash?: string
}

/** The first factor a login's `amr` names, for its user.login event. */
function loginMethod (amr: string[]): 'password' | 'provider' | 'passkey' {
  if (amr.includes('pwd')) return 'password'
  if (amr.includes('fed')) return 'provider'
  return amr.includes('hwk') || amr.includes('swk') ? 'passkey' : 'password'
}

/**
 * Opens a session for a user already authenticated (password or provider) and able to log in: its
 * first tokens. The session is created only if the user is still as `found` says (the same password
 * hash, for a password login; the same activity and ban): what changed while the password was being
 * compared decides instead, so a password change, reset, claim or ban ends the logins in flight.
 */
export async function startSession (deps: AuthDeps, found: UserRecord, client: ClientInfo, password?: VerifiedPassword, retried = false, amr: string[] = password !== undefined ? ['pwd'] : ['fed']): Promise<LoginResult> {
  const now = deps.now()
  const refresh = newOpaqueToken()
  const sessionId = randomUUID()
  let session: SessionRecord
  try {
    session = await deps.repositories.sessions.create({
      id: sessionId,
      userId: found.id,
      createdAt: now,
      userAgent: client.userAgent,
      ip: client.ip,
      firstToken: { id: randomUUID(), tokenHash: hashOpaqueToken(refresh), expiresAt: addSeconds(now, deps.config.refreshTokenTtl) },
      amr,
      ...(password?.upgradedHash !== undefined && { upgradedPasswordHash: password.upgradedHash }),
      events: [auditEvent(deps, 'user.login', found.id, { session_id: sessionId, method: loginMethod(amr), amr }, { type: 'user', id: found.id })],
      expect: {
        ...(password !== undefined && { passwordHash: password.verifiedHash }),
        isActive: found.isActive,
        isBanned: found.isBanned,
        bannedUntil: found.bannedUntil
      }
    })
  } catch (err) {
    if (!(err instanceof AccountChanged)) throw err
    const current = await deps.repositories.users.findById(found.id)
    const refused = password !== undefined ? errors.invalidCredentials() : errors.userInactive()
    // A new password (or none): the one just verified no longer opens this account.
    if (current === undefined || (password !== undefined && current.passwordHash !== password.verifiedHash)) throw refused
    assertMayLogIn(deps, current, deps.now())
    // Changed, and yet still allowed (a ban lifted meanwhile): once more against the row as it is now.
    if (retried) throw refused
    return startSession(deps, current, client, password, true, amr)
  }
  const user: UserRecord = { ...found, lastLogin: now, passwordHash: password?.upgradedHash ?? found.passwordHash }
  // Read at issue time: a change to the user's groups or permissions shows in the next token.
  const extras = await loadUserExtras(deps.repositories, user)
  const authorization = { groups: extras.groups, permissions: extras.permissions }
  return { ...await tokenPair(deps, user, session.id, refresh, authorization, amr), user: userView(user, extras), sessionId: session.id }
}

/**
 * Exchanges a refresh token for a new pair. The presented token dies; replaying it within the grace
 * window returns the same successor (racing tabs), replaying it later revokes the whole session.
 */
export async function refresh (deps: AuthDeps, presented: string, client: ClientInfo): Promise<TokenPair & { refreshExpiresIn: number }> {
  const now = deps.now()
  const successor = newOpaqueToken()
  const outcome = await deps.repositories.sessions.rotate({
    tokenHash: hashOpaqueToken(presented),
    now,
    graceMs: deps.config.refreshReuseGrace * 1000,
    successor: {
      id: randomUUID(),
      tokenHash: hashOpaqueToken(successor),
      expiresAt: addSeconds(now, deps.config.refreshTokenTtl),
      sealed: sealSuccessor(presented, successor)
    },
    ip: client.ip,
    userAgent: client.userAgent,
    // Built only when reuse is found: a refresh is a hot path, a reuse rare.
    onReuse: userId => auditEvent(deps, 'refresh.reuse_detected', userId)
  })

  if (outcome.kind === 'invalid') throw errors.tokenNotValid('The refresh token is invalid, expired or revoked.')
  if (outcome.kind === 'reused') {
    // Rare (a stolen token, or a bug in a client): one more query names the account for the log.
    const state = await deps.repositories.sessions.findAuthState(outcome.sessionId)
    throw withSecurityEvent(errors.tokenNotValid('The refresh token was already used; the session has been revoked.'),
      { event: 'refresh_token_reused', sessionId: outcome.sessionId, ...(state !== undefined && { accountId: state.user.id }) })
  }

  if (!canAuthenticate(outcome.user, now)) {
    await deps.repositories.sessions.revoke(outcome.user.id, outcome.session.id, now, 'account_disabled',
      sessionRevoked(deps, outcome.user.id, 'account_disabled', outcome.session.id))
    throw errors.tokenNotValid('The account of this refresh token is disabled or banned.')
  }

  const handedOut = outcome.kind === 'rotated' ? successor : openSuccessor(presented, outcome.sealedSuccessor)
  if (handedOut === undefined) throw errors.tokenNotValid('The refresh token is invalid, expired or revoked.')
  // A replay hands out a successor made earlier: its cookie lives as long as it does, not a full lifetime.
  const refreshExpiresIn = outcome.kind === 'rotated'
    ? deps.config.refreshTokenTtl
    : Math.max(0, Math.floor((outcome.successorExpiresAt.getTime() - now.getTime()) / 1000))
  const pair = await tokenPair(deps, outcome.user, outcome.session.id, handedOut, await deps.repositories.authorization.forUser(outcome.user), outcome.session.amr)
  return { ...pair, refreshExpiresIn }
}

/** Revokes the session a refresh token belongs to. Unknown tokens are ignored: logout is idempotent. */
export async function logout (deps: AuthDeps, presented: string): Promise<void> {
  const found = await deps.repositories.sessions.findByTokenHash(hashOpaqueToken(presented))
  if (found === undefined) return
  await deps.repositories.sessions.revoke(found.user.id, found.session.id, deps.now(), 'logout',
    sessionRevoked(deps, found.user.id, 'logout', found.session.id, { type: 'user', id: found.user.id }))
}

export async function logoutAll (deps: AuthDeps, userId: string): Promise<void> {
  await deps.repositories.sessions.revokeAll(userId, deps.now(), 'logout_all', undefined, sessionRevoked(deps, userId, 'logout_all'))
}

export interface SessionView {
  id: string
  created_at: string
  last_used_at: string
  user_agent: string | null
  ip: string | null
  current: boolean
}

function sessionView (session: SessionRecord, currentSessionId: string): SessionView {
  return {
    id: session.id,
    created_at: session.createdAt.toISOString(),
    last_used_at: session.lastUsedAt.toISOString(),
    user_agent: session.userAgent,
    ip: session.ip,
    current: session.id === currentSessionId
  }
}

export async function listSessions (deps: AuthDeps, userId: string, currentSessionId: string): Promise<SessionView[]> {
  const sessions = await deps.repositories.sessions.listLive(userId, deps.now())
  return sessions.map(s => sessionView(s, currentSessionId))
}

/** Only the caller's own live sessions can be revoked; anything else is not found. */
export async function revokeSession (deps: AuthDeps, userId: string, sessionId: string): Promise<void> {
  const revoked = await deps.repositories.sessions.revoke(userId, sessionId, deps.now(), 'revoked_by_user',
    sessionRevoked(deps, userId, 'revoked_by_user', sessionId))
  if (!revoked) throw errors.notFound('No such session.')
}

/** Deletes a batch of dead sessions and tokens; revoked sessions are kept until their access tokens expired. */
export async function pruneSessions (deps: AuthDeps, batchSize: number): Promise<number> {
  const now = deps.now()
  const revokedBefore = new Date(now.getTime() - deps.config.accessTokenTtl * 1000 - 60_000)
  return deps.repositories.sessions.prune(now, revokedBefore, batchSize)
}
