// The cut-over from Django: tokens minted by the old deployment's simplejwt, accepted until they expire (refresh tokens once).
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { UserRecord } from '../../db/repositories.js'
import type { Config } from '../config.js'
import type { AuthDeps, ClientInfo } from '../deps.js'
import { errors } from '../errors.js'
import { withSecurityEvent } from '../http/security-events.js'
import { hasSecondFactor } from '../mfa/second-factor.js'
import { assertMayLogIn, startSession, type LoginResult } from '../sessions/sessions.js'

export type CutoverConfig = NonNullable<Config['django']['cutover']>

const HMAC: Record<CutoverConfig['algorithm'], string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }

export interface DjangoClaims {
  tokenType: 'access' | 'refresh'
  jti: string
  legacyId: number
  exp: Date
}

function decodeJson (part: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined
  } catch {
    return undefined
  }
}

/** Whether a string has the shape of a JWT (three base64url parts): an opaque Portcullis token never does. */
export function looksLikeJwt (token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)
}

/**
 * The claims of a token the Django deployment signed, if it is one: signed with its key and the
 * configured algorithm (the header's `alg` must be that one: `none` or another algorithm is refused
 * whatever the signature), of the wanted type, not expired, issued no longer ago than its lifetime
 * there, with a `jti` and a numeric user id. Anything else is undefined.
 */
export function verifyDjangoToken (cutover: CutoverConfig, token: string, wanted: 'access' | 'refresh', now: Date): DjangoClaims | undefined {
  if (token.length > 8192 || !looksLikeJwt(token)) return undefined
  const [header, payload, signature] = token.split('.')
  const head = decodeJson(header)
  if (head === undefined || head.alg !== cutover.algorithm) return undefined
  const expected = createHmac(HMAC[cutover.algorithm], cutover.signingKey).update(`${header}.${payload}`).digest()
  const given = Buffer.from(signature, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  const claims = decodeJson(payload)
  if (claims === undefined || claims.token_type !== wanted) return undefined
  const { exp, iat, jti } = claims
  const userId = claims[cutover.userIdClaim]
  if (typeof exp !== 'number' || typeof jti !== 'string' || jti === '' || jti.length > 255) return undefined
  const seconds = now.getTime() / 1000
  if (exp <= seconds) return undefined
  const lifetime = wanted === 'access' ? cutover.accessTokenLifetime : cutover.refreshTokenLifetime
  if (typeof iat === 'number' && (iat > seconds + 60 || seconds - iat > lifetime)) return undefined
  const legacyId = typeof userId === 'number' ? userId : typeof userId === 'string' && /^\d{1,15}$/.test(userId) ? Number(userId) : NaN
  if (!Number.isSafeInteger(legacyId)) return undefined
  return { tokenType: wanted, jti, legacyId, exp: new Date(exp * 1000) }
}

/** The imported user a valid Django access token names, if it can still authenticate. */
export async function djangoAccessUser (deps: AuthDeps, token: string): Promise<UserRecord | undefined> {
  const cutover = deps.config.django.cutover
  if (cutover === undefined) return undefined
  const now = deps.now()
  const claims = verifyDjangoToken(cutover, token, 'access', now)
  if (claims === undefined) return undefined
  const user = await deps.repositories.django.findUserByLegacyId(claims.legacyId)
  if (user === undefined) return undefined
  try {
    assertMayLogIn(deps, user, now)
  } catch {
    return undefined
  }
  return user
}

/**
 * Exchanges a refresh token minted by Django for a Portcullis session, once: its `jti` is recorded
 * in the same step, so a second use (or a race of two) is refused as reuse.
 */
export async function exchangeDjangoRefresh (deps: AuthDeps, token: string, client: ClientInfo): Promise<LoginResult> {
  const cutover = deps.config.django.cutover
  const now = deps.now()
  const claims = cutover === undefined ? undefined : verifyDjangoToken(cutover, token, 'refresh', now)
  if (claims === undefined) throw errors.tokenNotValid()
  const user = await deps.repositories.django.findUserByLegacyId(claims.legacyId)
  if (user === undefined) throw errors.tokenNotValid()
  assertMayLogIn(deps, user, now)
  // simplejwt never asked for a second factor: a token from there does not pass the one set up here.
  if (await hasSecondFactor(deps, user.id)) throw errors.tokenNotValid('This account has a second factor: log in at /api/auth/login.')
  if (!await deps.repositories.django.useRefreshToken(claims.jti, claims.exp, now)) {
    throw withSecurityEvent(errors.tokenNotValid('The refresh token was already used.'), { event: 'refresh_token_reused', accountId: user.id })
  }
  try {
    // The Django session began with a password.
    return await startSession(deps, user, client, undefined, false, ['pwd'])
  } catch (err) {
    // No session came of it (the account changed meanwhile, the database failed): the token is not
    // spent. A crash between the two steps still spends it; the user then logs in with a password.
    await deps.repositories.django.releaseRefreshToken(claims.jti).catch(() => {})
    throw err
  }
}
