// The second step of a login (mfa_token → /api/auth/mfa/verify), step-up of a session, and a user's factors.
import { createHash, randomUUID } from 'node:crypto'
import type { AuthenticationCredential } from '../schemas/webauthn.js'
import type { Authorization, UserRecord, UserSummary } from '../../db/repositories.js'
import { auditEvent, sessionRevoked } from '../audit/events.js'
import type { AuthDeps, ClientInfo } from '../deps.js'
import { errors, ProblemError } from '../errors.js'
import { accountThrottleKey } from '../limits/password-check.js'
import { accessTokenClaims } from '../sessions/access-tokens.js'
import { hashOpaqueToken, newOpaqueToken } from '../sessions/opaque-tokens.js'
import { assertMayLogIn, startSession, type LoginResult } from '../sessions/sessions.js'
import { withSecondFactor, type AuthMethod } from './assurance.js'
import { listPasskeys, type PasskeyView } from './passkeys.js'
import { useRecoveryCode } from './recovery-codes.js'
import { checkTotp } from './totp.js'
import { requestOptions, takeChallenge, verifyAssertion, type RequestOptionsJSON, type WebauthnPurpose } from './webauthn.js'

/** The contract's 5 minutes between the password and the second factor. */
export const MFA_TOKEN_TTL_SECONDS = 300

export type CodeMethod = 'totp' | 'recovery_code'
export type SecondFactorMethod = CodeMethod | 'webauthn'

/** A second factor's answer: a code, or a WebAuthn assertion. */
export type SecondFactorAnswer = { method: CodeMethod, code: string } | { method: 'webauthn', credential: AuthenticationCredential }

export interface MfaRequired {
  mfa_required: true
  mfa_token: string
  /** The second factors the user can answer with. */
  methods: SecondFactorMethod[]
}

export interface MfaStatus {
  totp: boolean
  passkeys: PasskeyView[]
  recovery_codes_left: number
}

/** Which second factors the user has: what GET /api/auth/mfa and the admin user view show. */
export async function mfaStatus (deps: AuthDeps, userId: string): Promise<MfaStatus> {
  const factors = await deps.repositories.mfa.factors(userId)
  const passkeys = factors.passkeys > 0 ? await listPasskeys(deps, userId) : []
  return { totp: factors.totp, passkeys, recovery_codes_left: factors.recoveryCodesLeft }
}

/** Whether the user has a second factor, a confirmed TOTP or a passkey (then logins ask for it, and sensitive operations need aal2). */
export async function hasSecondFactor (deps: AuthDeps, userId: string): Promise<boolean> {
  const factors = await deps.repositories.mfa.factors(userId)
  return factors.totp || factors.passkeys > 0
}

/**
 * After a first factor (`pwd`, `fed`) for a user with a second factor: an mfa_token (single-use,
 * 5 minutes, only its hash stored) instead of tokens. Undefined when the user has no second factor.
 */
export async function requireSecondFactor (deps: AuthDeps, userId: string, firstFactor: string[], verifiedPasswordHash?: string | null): Promise<MfaRequired | undefined> {
  const factors = await deps.repositories.mfa.factors(userId)
  if (!factors.totp && factors.passkeys === 0) return undefined
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
  const methods: SecondFactorMethod[] = []
  if (factors.totp) methods.push('totp')
  if (factors.passkeys > 0) methods.push('webauthn')
  if (factors.recoveryCodesLeft > 0) methods.push('recovery_code')
  return { mfa_required: true, mfa_token: token, methods }
}

/** Where a WebAuthn answer's challenge must come from: the options call of this login or of this session. */
interface ChallengeBinding { purpose: WebauthnPurpose, key: 'mfa_challenge_id' | 'session_id', value: string }

/**
 * Checks a second-factor answer, counted against RATE_LIMIT_MFA_ACCOUNT before it is checked (so
 * concurrent guesses cannot outrun the limit): 429 once reached, 401 invalid_mfa_code when wrong.
 * The RFC 8176 method it amounts to when right (`otp`, or `hwk`/`swk` for a passkey).
 */
async function checkAnswer (deps: AuthDeps, userId: string, answer: SecondFactorAnswer, binding: ChallengeBinding, client: ClientInfo): Promise<AuthMethod> {
  const now = deps.now()
  const key = accountThrottleKey(userId)
  const ip = client.ip ?? 'unknown'
  await deps.mfaThrottle.countAttempt(key, ip, now)
  let method: AuthMethod | undefined
  try {
    method = answer.method === 'webauthn'
      ? await checkPasskey(deps, userId, answer.credential, binding)
      : (answer.method === 'totp' ? await checkTotp(deps, userId, answer.code) : await useRecoveryCode(deps, userId, answer.code)) ? 'otp' : undefined
  } catch (err) {
    // The answer was never checked (a 503, a database failure): not a guess. A refused passkey
    // (ProblemError 401 from its counter check) was checked, and counts.
    if (!(err instanceof ProblemError) || err.statusCode >= 500) await deps.mfaThrottle.forgetAttempt(key, ip, now)
    throw err
  }
  if (method === undefined) throw errors.invalidMfaCode()
  await deps.mfaThrottle.recordSuccess(key, ip, now)
  return method
}

/** An assertion by one of the user's passkeys, for the challenge its options call issued to this login or session. */
async function checkPasskey (deps: AuthDeps, userId: string, credential: AuthenticationCredential, binding: ChallengeBinding): Promise<AuthMethod | undefined> {
  const taken = await takeChallenge(deps, binding.purpose, credential.response.clientDataJSON)
  if (taken === undefined || taken.userId !== userId || taken.data[binding.key] !== binding.value) return undefined
  const passkey = await deps.repositories.passkeys.findByCredentialId(credential.id)
  if (passkey === undefined || passkey.userId !== userId) return undefined
  return (await verifyAssertion(deps, passkey, credential, taken.challenge, false, errors.invalidMfaCode()))?.method
}

/** The user's passkeys, as an assertion may name them: 409 no_passkey when there is none. */
async function passkeysOf (deps: AuthDeps, userId: string) {
  const passkeys = await deps.repositories.passkeys.listByUser(userId)
  if (passkeys.length === 0) throw errors.noPasskey()
  return passkeys
}

/** Request options for the second step of a login with a passkey: its challenge works only with this mfa_token. */
export async function webauthnLoginOptions (deps: AuthDeps, mfaToken: string): Promise<RequestOptionsJSON> {
  const challenge = await deps.repositories.mfa.findChallenge(hashOpaqueToken(mfaToken), 'login', deps.now())
  if (challenge?.userId == null) throw errors.invalidMfaToken()
  const passkeys = await passkeysOf(deps, challenge.userId)
  return requestOptions(deps, 'webauthn_mfa', challenge.userId, passkeys, 'preferred', { mfa_challenge_id: challenge.id })
}

/** Request options for raising a session with a passkey: its challenge works only for this session. */
export async function webauthnStepUpOptions (deps: AuthDeps, principal: { user: { id: string }, sessionId: string }): Promise<RequestOptionsJSON> {
  const passkeys = await passkeysOf(deps, principal.user.id)
  return requestOptions(deps, 'webauthn_step_up', principal.user.id, passkeys, 'preferred', { session_id: principal.sessionId })
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
export async function verifySecondFactor (deps: AuthDeps, input: { mfaToken: string } & SecondFactorAnswer, client: ClientInfo): Promise<LoginResult> {
  const { mfaToken, ...answer } = input
  const challenge = await deps.repositories.mfa.findChallenge(hashOpaqueToken(mfaToken), 'login', deps.now())
  const user = challenge?.userId == null ? undefined : await deps.repositories.users.findById(challenge.userId)
  if (challenge === undefined || user === undefined) throw errors.invalidMfaToken()
  // A wrong code leaves the token usable (until it expires or the limit is reached): a typo does
  // not send the user back to the password. (A passkey's challenge is used up either way.)
  const method = await checkAnswer(deps, user.id, answer, { purpose: 'webauthn_mfa', key: 'mfa_challenge_id', value: challenge.id }, client)
  if (!await deps.repositories.mfa.consumeChallenge(challenge.id, deps.now())) throw errors.invalidMfaToken()
  // The account may have been banned or disabled since the password was checked.
  assertMayLogIn(deps, user, deps.now())
  const first = firstStepOf(challenge.data)
  if (first.password !== undefined && (user.passwordHash === null || passwordFingerprint(user.passwordHash) !== first.password)) {
    throw errors.invalidMfaToken()
  }
  // And from here until the session is written: the same compare-and-set as a one-step login.
  const password = first.password !== undefined ? { verifiedHash: user.passwordHash } : undefined
  return startSession(deps, user, client, password, false, withSecondFactor(first.amr, method))
}

export interface StepUpResult {
  access: string
  token_type: 'Bearer'
  expires_in: number
}

/** Raises the caller's session to aal2 with a second factor: a new access token of the same session. */
export async function stepUp (deps: AuthDeps, principal: { user: UserSummary, sessionId: string, authorization: Authorization, amr: string[] }, input: SecondFactorAnswer, client: ClientInfo): Promise<StepUpResult> {
  const { user, sessionId } = principal
  // Nothing to raise the session with: not a wrong code, and not counted as one.
  if (!await hasSecondFactor(deps, user.id)) throw errors.noSecondFactor()
  const method = await checkAnswer(deps, user.id, input, { purpose: 'webauthn_step_up', key: 'session_id', value: sessionId }, client)
  const amr = withSecondFactor(principal.amr, method)
  if (!await deps.repositories.sessions.raiseAuthentication(user.id, sessionId, amr, deps.now())) {
    throw errors.tokenNotValid('The session of this token has ended.')
  }
  return {
    access: await deps.signAccessToken(accessTokenClaims(user, sessionId, principal.authorization, amr)),
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
