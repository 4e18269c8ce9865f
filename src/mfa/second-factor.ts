// The second step of a login (mfa_token → /api/auth/mfa/verify), step-up of a session, and a user's factors.
import { createHash, randomUUID } from 'node:crypto'
import type { Authorization, UserRecord, UserSummary } from '../../db/repositories.js'
import { auditEvent, sessionRevoked } from '../audit/events.js'
import type { AuthDeps, ClientInfo } from '../deps.js'
import { errors } from '../errors.js'
import { accountThrottleKey } from '../limits/password-check.js'
import { accessTokenClaims } from '../sessions/access-tokens.js'
import { hashOpaqueToken, newOpaqueToken } from '../sessions/opaque-tokens.js'
import { assertMayLogIn, startSession, type LoginResult } from '../sessions/sessions.js'
import { withSecondFactor } from './assurance.js'
import { useRecoveryCode } from './recovery-codes.js'
import { checkTotp } from './totp.js'

/** The contract's 5 minutes between the password and the second factor. */
export const MFA_TOKEN_TTL_SECONDS = 300

export type CodeMethod = 'totp' | 'recovery_code'

export interface MfaRequired {
  mfa_required: true
  mfa_token: string
  /** The second factors the user can answer with. */
  methods: CodeMethod[]
}

export interface MfaStatus {
  totp: boolean
  passkeys: Array<{ id: string, name: string, created_at: string, last_used_at: string | null }>
  recovery_codes_left: number
}

/** Which second factors the user has: what GET /api/auth/mfa and the admin user view show. */
export async function mfaStatus (deps: AuthDeps, userId: string): Promise<MfaStatus> {
  const factors = await deps.repositories.mfa.factors(userId)
  return { totp: factors.totp, passkeys: [], recovery_codes_left: factors.recoveryCodesLeft }
}

/** Whether the user has a confirmed second factor (then logins ask for it, and sensitive operations need aal2). */
export async function hasSecondFactor (deps: AuthDeps, userId: string): Promise<boolean> {
  return (await deps.repositories.mfa.factors(userId)).totp
}

/**
 * After a first factor (`pwd`, `fed`) for a user with a second factor: an mfa_token (single-use,
 * 5 minutes, only its hash stored) instead of tokens. Undefined when the user has no second factor.
 */
export async function requireSecondFactor (deps: AuthDeps, userId: string, firstFactor: string[], verifiedPasswordHash?: string | null): Promise<MfaRequired | undefined> {
  const factors = await deps.repositories.mfa.factors(userId)
  if (!factors.totp) return undefined
  const now = deps.now()
  const token = newOpaqueToken()
  await deps.repositories.mfa.issueChallenge({
    id: randomUUID(),
    purpose: 'login',
    tokenHash: hashOpaqueToken(token),
    userId,
    data: JSON.stringify({ amr: firstFactor, ...(typeof verifiedPasswordHash === 'string' && { password: passwordFingerprint(verifiedPasswordHash) }) }),
    createdAt: now,
    expiresAt: new Date(now.getTime() + MFA_TOKEN_TTL_SECONDS * 1000)
  })
  const methods: CodeMethod[] = ['totp']
  if (factors.recoveryCodesLeft > 0) methods.push('recovery_code')
  return { mfa_required: true, mfa_token: token, methods }
}

/**
 * Checks a second-factor code, counted against RATE_LIMIT_MFA_ACCOUNT before it is checked (so
 * concurrent guesses cannot outrun the limit): 429 once reached, 401 invalid_mfa_code when wrong.
 */
async function checkCode (deps: AuthDeps, userId: string, method: CodeMethod, code: string, client: ClientInfo): Promise<void> {
  const now = deps.now()
  const key = accountThrottleKey(userId)
  const ip = client.ip ?? 'unknown'
  await deps.mfaThrottle.countAttempt(key, ip, now)
  let right: boolean
  try {
    right = method === 'totp' ? await checkTotp(deps, userId, code) : await useRecoveryCode(deps, userId, code)
  } catch (err) {
    // The code was never checked (a 503, a database failure): not a guess.
    await deps.mfaThrottle.forgetAttempt(key, ip, now)
    throw err
  }
  if (!right) throw errors.invalidMfaCode()
  await deps.mfaThrottle.recordSuccess(key, ip, now)
}

/**
 * Which password hash a login's first step verified, kept with its mfa_token as a digest (the hash
 * itself stays in the users table only): a password changed or reset before the second step ends
 * that login, as it ends one whose password is still being compared.
 */
function passwordFingerprint (hash: string): string {
  return createHash('sha256').update(hash).digest('base64url')
}

interface FirstStep {
  amr: string[]
  /** passwordFingerprint of the hash the password matched; absent after a provider's login. */
  password?: string
}

function firstStepOf (data: string): FirstStep {
  try {
    const parsed = JSON.parse(data) as { amr?: unknown, password?: unknown }
    const amr = Array.isArray(parsed.amr) && parsed.amr.every(value => typeof value === 'string') ? parsed.amr as string[] : ['pwd']
    return { amr, ...(typeof parsed.password === 'string' && { password: parsed.password }) }
  } catch {}
  return { amr: ['pwd'] }
}

/** The second step of a login: the mfa_token and a code → a session at aal2. The token works once, and only with a right code. */
export async function verifySecondFactor (deps: AuthDeps, input: { mfaToken: string, method: CodeMethod, code: string }, client: ClientInfo): Promise<LoginResult> {
  const challenge = await deps.repositories.mfa.findChallenge(hashOpaqueToken(input.mfaToken), 'login', deps.now())
  const user = challenge?.userId == null ? undefined : await deps.repositories.users.findById(challenge.userId)
  if (challenge === undefined || user === undefined) throw errors.invalidMfaToken()
  // A wrong code leaves the token usable (until it expires or the limit is reached): a typo does
  // not send the user back to the password.
  await checkCode(deps, user.id, input.method, input.code, client)
  if (!await deps.repositories.mfa.consumeChallenge(challenge.id, deps.now())) throw errors.invalidMfaToken()
  // The account may have been banned or disabled since the password was checked.
  assertMayLogIn(deps, user, deps.now())
  const first = firstStepOf(challenge.data)
  if (first.password !== undefined && (user.passwordHash === null || passwordFingerprint(user.passwordHash) !== first.password)) {
    throw errors.invalidMfaToken()
  }
  // And from here until the session is written: the same compare-and-set as a one-step login.
  const password = first.password !== undefined ? { verifiedHash: user.passwordHash } : undefined
  return startSession(deps, user, client, password, false, withSecondFactor(first.amr, 'otp'))
}

export interface StepUpResult {
  access: string
  token_type: 'Bearer'
  expires_in: number
}

/** Raises the caller's session to aal2 with a second factor: a new access token of the same session. */
export async function stepUp (deps: AuthDeps, principal: { user: UserSummary, sessionId: string, authorization: Authorization, amr: string[] }, input: { method: CodeMethod, code: string }, client: ClientInfo): Promise<StepUpResult> {
  const { user, sessionId } = principal
  // Nothing to raise the session with: not a wrong code, and not counted as one.
  if (!await hasSecondFactor(deps, user.id)) throw errors.noSecondFactor()
  await checkCode(deps, user.id, input.method, input.code, client)
  const amr = withSecondFactor(principal.amr, 'otp')
  if (!await deps.repositories.sessions.raiseAuthentication(user.id, sessionId, amr, deps.now())) {
    throw errors.tokenNotValid('The session of this token has ended.')
  }
  return {
    access: deps.signAccessToken(accessTokenClaims(user, sessionId, principal.authorization, amr)),
    token_type: 'Bearer',
    expires_in: deps.config.accessTokenTtl
  }
}

/**
 * Removes every second factor of a user and ends its sessions (an operator's reset, for a user who
 * lost its phone): the one place all factors are disabled at once. False for an unknown user.
 */
export async function resetMfa (deps: AuthDeps, user: Pick<UserRecord, 'id'>): Promise<void> {
  const now = deps.now()
  await deps.repositories.mfa.deleteAll(user.id, [auditEvent(deps, 'mfa.disabled', user.id, { method: 'all' })])
  await deps.repositories.sessions.revokeAll(user.id, now, 'mfa_reset', undefined, sessionRevoked(deps, user.id, 'mfa_reset'))
}
