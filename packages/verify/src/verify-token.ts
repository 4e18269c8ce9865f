// verifyAccessToken(token, options): the plain function every other part of the kit builds on.
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose'
import { ACCESS_TOKEN_TYP, REQUIRED_CLAIMS, type VerifiedToken } from './claims.js'
import { TokenInvalidError, VerifierUnavailableError } from './errors.js'

export type Algorithm = 'RS256' | 'ES256' | 'EdDSA'

export interface VerifyOptions {
  /** The `iss` Portcullis signs with (its JWT_ISSUER, by default its PUBLIC_URL). */
  issuer: string
  /** The `aud` your tokens are issued for (Portcullis's JWT_AUDIENCE). */
  audience: string
  /** The accepted signing algorithms; default RS256 only. Never derived from the token itself. */
  algorithms?: Algorithm[]
  /** Default `<issuer>/.well-known/jwks.json`. */
  jwksUrl?: string
  /** Leeway for exp/nbf against clock skew, in seconds; default 0. `iat` may always be 30 s (plus this) in the future. */
  clockToleranceSeconds?: number
  /**
   * The longest lifetime (`exp - iat`) a token may have, in seconds; default 3600. Set it to Portcullis's
   * ACCESS_TOKEN_TTL: a token that claims to live longer (plus 30 s of skew) is refused.
   */
  maxTokenLifetimeSeconds?: number
  /**
   * After a fetch, an unknown kid does not fetch the key set again for this long (ms, default 30 s):
   * tokens with made-up kids cannot turn the service into a flood against the issuer. After a failed
   * fetch, the keys already known are used for this long before the issuer is asked again.
   */
  jwksCooldownMs?: number
  /**
   * The key set is fetched again after this long even when every kid is known (ms, default 10 min).
   * When that fetch fails, the keys already known keep verifying; only a new kid needs the issuer.
   */
  jwksMaxAgeMs?: number
  /** Timeout of a key set fetch (ms, default 5 s). */
  jwksTimeoutMs?: number
  /**
   * Revocations to honour, usually a started `createRevocationFeed(...)`. It may throw
   * VerifierUnavailableError (a fail-closed feed past its `maxStalenessMs`).
   */
  revocations?: { revocationOf (token: VerifiedToken): string | undefined }
}

type KeySet = JWTVerifyGetKey

/** How far the issuer's clock may run ahead of this one for `iat`, and the slack on the lifetime; as Portcullis. */
export const CLOCK_SKEW_SECONDS = 30
const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 3600

/**
 * One remote key set per URL and settings, shared by every caller in the process: the cache and the
 * refetch cooldown only work if they outlive a single call. Bounded, in case URLs are built per call.
 */
const keySets = new Map<string, KeySet>()
const MAX_KEY_SETS = 32

export function jwksUrlOf (options: Pick<VerifyOptions, 'issuer' | 'jwksUrl'>): string {
  return options.jwksUrl ?? `${options.issuer.replace(/\/+$/, '')}/.well-known/jwks.json`
}

function keySetFor (options: VerifyOptions): KeySet {
  const url = jwksUrlOf(options)
  const key = JSON.stringify([url, options.jwksCooldownMs, options.jwksMaxAgeMs, options.jwksTimeoutMs])
  let keySet = keySets.get(key)
  if (keySet === undefined) {
    keySet = keepingKnownKeys(createRemoteJWKSet(new URL(url), {
      cooldownDuration: options.jwksCooldownMs,
      cacheMaxAge: options.jwksMaxAgeMs,
      timeoutDuration: options.jwksTimeoutMs
    }), options.jwksCooldownMs ?? 30_000)
    if (keySets.size >= MAX_KEY_SETS) keySets.delete(keySets.keys().next().value as string)
    keySets.set(key, keySet)
  }
  return keySet
}

/** jose errors that mean "could not get the keys" rather than "this token is bad". */
const UNAVAILABLE = new Set([joseErrors.JWKSTimeout.code, joseErrors.JOSEError.code, joseErrors.JWKSInvalid.code])

function isUnavailable (err: unknown): boolean {
  return !(err instanceof joseErrors.JOSEError) || UNAVAILABLE.has(err.code)
}

function classify (err: unknown): Error {
  if (!isUnavailable(err)) return new TokenInvalidError((err as Error).message.replace(/\.$/, ''), { cause: err })
  return new VerifierUnavailableError({ cause: err })
}

/**
 * jose refetches a key set older than its max age and throws when that fails, which would take the
 * service down with the issuer though the keys it knows are still good. Here a failed refresh falls
 * back to the last key set fetched, and for `retryMs` serves known kids from it without asking the
 * issuer again (a hanging issuer must not cost every request a timeout). A kid the last key set does
 * not have still needs the issuer: unavailable until it answers. Keys the issuer has since withdrawn
 * are only known while it cannot be asked.
 */
function keepingKnownKeys (remote: ReturnType<typeof createRemoteJWKSet>, retryMs: number): KeySet {
  let retryAt = 0
  let lastFailure: unknown
  let known: { jwks: JSONWebKeySet, keySet: KeySet } | undefined
  const knownKeys = (): KeySet | undefined => {
    const jwks = remote.jwks()
    if (jwks === undefined) return undefined
    if (known?.jwks !== jwks) known = { jwks, keySet: createLocalJWKSet(jwks) }
    return known.keySet
  }
  const fromKnown = async (keySet: KeySet, failure: unknown, ...args: Parameters<KeySet>) => {
    try {
      return await keySet(...args)
    } catch (err) {
      throw err instanceof joseErrors.JWKSNoMatchingKey ? failure : err
    }
  }
  return async (...args) => {
    const local = knownKeys()
    if (local !== undefined && Date.now() < retryAt) return fromKnown(local, lastFailure, ...args)
    try {
      return await remote(...args)
    } catch (err) {
      if (!isUnavailable(err) || local === undefined) throw err
      lastFailure = err
      retryAt = Date.now() + retryMs
      return fromKnown(local, err, ...args)
    }
  }
}

/**
 * What jose does not check of the time claims (RFC 8725 hardening, the rules Portcullis applies):
 * `exp` and `iat` (and `nbf`, when present) are whole seconds, `iat` is not in the future beyond the
 * skew (a future `iat` would also outlive the revocation feed's `not_before`), and the token does
 * not claim to live longer than an access token may.
 */
function checkTimeClaims (payload: VerifiedToken, options: VerifyOptions): void {
  const { exp, iat, nbf } = payload
  if (!Number.isSafeInteger(exp) || !Number.isSafeInteger(iat) || (nbf !== undefined && !Number.isSafeInteger(nbf))) {
    throw new TokenInvalidError('exp, iat and nbf must be whole seconds')
  }
  const skew = CLOCK_SKEW_SECONDS + (options.clockToleranceSeconds ?? 0)
  if (iat > Date.now() / 1000 + skew) throw new TokenInvalidError('issued in the future')
  const maxLifetime = options.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS
  if (exp - iat > maxLifetime + CLOCK_SKEW_SECONDS) throw new TokenInvalidError('lives longer than an access token may')
}

/**
 * Verifies a Portcullis access token offline: signature against the issuer's JWKS (algorithm
 * pinned), `typ: at+jwt`, issuer, audience, expiry, the required claims, `token_type: "access"` and
 * the time claims, then the revocations. Throws TokenInvalidError or VerifierUnavailableError.
 */
export async function verifyAccessToken (token: string, options: VerifyOptions): Promise<VerifiedToken> {
  let payload: VerifiedToken
  try {
    ({ payload } = await jwtVerify<VerifiedToken>(token, keySetFor(options), {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: options.algorithms ?? ['RS256'],
      typ: ACCESS_TOKEN_TYP,
      requiredClaims: REQUIRED_CLAIMS,
      clockTolerance: options.clockToleranceSeconds ?? 0
    }))
  } catch (err) {
    throw classify(err)
  }
  // A refresh or one-time token is never a JWT here, but a future JWT of another kind must not pass.
  if (payload.token_type !== 'access') throw new TokenInvalidError('not an access token')
  if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string') throw new TokenInvalidError('malformed claims')
  checkTimeClaims(payload, options)
  const revoked = options.revocations?.revocationOf(payload)
  if (revoked !== undefined) throw new TokenInvalidError(`revoked (${revoked})`)
  return payload
}
