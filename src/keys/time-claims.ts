// The time claims of a token the key ring verified (RFC 8725 §3.10 hardening): what the signature
// check alone does not say about `iat`, `exp` and `nbf`.

/**
 * How far this server's clock may lag the one that issued a token (another instance), in seconds:
 * `iat` may be this far in the future, and `exp - iat` this much over the access-token lifetime.
 */
export const TOKEN_CLOCK_SKEW_SECONDS = 30

/**
 * Throws unless `exp` and `iat` are integers (NumericDate in whole seconds: a fraction or a
 * millisecond value is not what Portcullis signs), `nbf`, when present, is one too, `iat` is not
 * more than the skew in the future (a future `iat` would also pass the revocation feed's
 * `not_before` comparison), and the token lives no longer than `maxLifetimeSeconds` plus the skew.
 */
export function checkTimeClaims (claims: Record<string, unknown>, maxLifetimeSeconds: number, nowMs: number): void {
  const { exp, iat, nbf } = claims
  if (!Number.isSafeInteger(exp) || !Number.isSafeInteger(iat)) throw new Error('exp and iat must be integers')
  if (nbf !== undefined && !Number.isSafeInteger(nbf)) throw new Error('nbf must be an integer')
  const issuedAt = iat as number
  if (issuedAt * 1000 > nowMs + TOKEN_CLOCK_SKEW_SECONDS * 1000) throw new Error('iat is in the future')
  if ((exp as number) - issuedAt > maxLifetimeSeconds + TOKEN_CLOCK_SKEW_SECONDS) throw new Error('the token lives longer than an access token may')
}
