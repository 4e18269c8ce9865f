// verifyAccessToken(token, options): the plain function every other part of the kit builds on.
import { createRemoteJWKSet, jwtVerify, errors as joseErrors } from 'jose'
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
  /** Leeway for exp/iat against clock skew, in seconds; default 0. */
  clockToleranceSeconds?: number
  /**
   * After a fetch, an unknown kid does not fetch the key set again for this long (ms, default 30 s):
   * tokens with made-up kids cannot turn the service into a flood against the issuer.
   */
  jwksCooldownMs?: number
  /** The key set is fetched again after this long even when every kid is known (ms, default 10 min). */
  jwksMaxAgeMs?: number
  /** Timeout of a key set fetch (ms, default 5 s). */
  jwksTimeoutMs?: number
  /** Revocations to honour, usually a started `createRevocationFeed(...)`. */
  revocations?: { revocationOf (token: VerifiedToken): string | undefined }
}

type KeySet = ReturnType<typeof createRemoteJWKSet>

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
    keySet = createRemoteJWKSet(new URL(url), {
      cooldownDuration: options.jwksCooldownMs,
      cacheMaxAge: options.jwksMaxAgeMs,
      timeoutDuration: options.jwksTimeoutMs
    })
    if (keySets.size >= MAX_KEY_SETS) keySets.delete(keySets.keys().next().value as string)
    keySets.set(key, keySet)
  }
  return keySet
}

/** jose errors that mean "could not get the keys" rather than "this token is bad". */
const UNAVAILABLE = new Set([joseErrors.JWKSTimeout.code, joseErrors.JOSEError.code, joseErrors.JWKSInvalid.code])

function classify (err: unknown): Error {
  if (err instanceof joseErrors.JOSEError && !UNAVAILABLE.has(err.code)) {
    return new TokenInvalidError(err.message.replace(/\.$/, ''), { cause: err })
  }
  return new VerifierUnavailableError({ cause: err })
}

/**
 * Verifies a Portcullis access token offline: signature against the issuer's JWKS (algorithm
 * pinned), `typ: at+jwt`, issuer, audience, expiry, the required claims and `token_type: "access"`,
 * then the revocations. Throws TokenInvalidError or VerifierUnavailableError.
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
  const revoked = options.revocations?.revocationOf(payload)
  if (revoked !== undefined) throw new TokenInvalidError(`revoked (${revoked})`)
  return payload
}
