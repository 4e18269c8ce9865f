// Client access tokens (client credentials grant): the claims, and their verification. They are
// signed like user access tokens (same key, `typ: at+jwt`, iss, aud, exp) but name a client, not a user.
import { randomUUID } from 'node:crypto'
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWK, type JWTVerifyGetKey } from 'jose'
import type { AccessTokenClaims } from './access-tokens.js'
import { ACCESS_TOKEN_TYPE } from './access-tokens.js'
import type { SigningAlgorithm } from './config.js'

/** No user claims at all (no sid, email, username, groups, permissions, user_id): a client is not a user. */
export interface ClientTokenClaims {
  sub: string
  client_id: string
  /** Space-separated scope tokens. */
  scope: string
  jti: string
  token_type: 'access'
}

export interface VerifiedClientToken extends ClientTokenClaims {
  iss: string
  aud: string
  iat: number
  exp: number
}

export function clientTokenClaims (clientId: string, scopes: string[]): ClientTokenClaims {
  return { sub: clientId, client_id: clientId, scope: scopes.join(' '), jti: randomUUID(), token_type: 'access' }
}

/**
 * Signs with the signer of user access tokens, so both share the key, kid, header and lifetime. The
 * signer is typed for user claims only; what it adds (iss, aud, iat, exp) applies to these the same.
 */
export function signClientToken (sign: (claims: AccessTokenClaims) => string, claims: ClientTokenClaims): string {
  return sign(claims as unknown as AccessTokenClaims)
}

/** Whether a JWT's payload names a client: the one claim user tokens never carry. */
export function isClientTokenPayload (payload: Record<string, unknown>): boolean {
  return 'client_id' in payload
}

export interface ClientTokenVerifierOptions {
  algorithm: SigningAlgorithm
  issuer: string
  audience: string
  /** The HS256 shared secret, when that is the algorithm. */
  secret?: string
  /** The published public keys, read on every call so that a key change is seen. */
  publicJwks: () => JWK[]
}

/**
 * Verifies a client token: the algorithm pinned, iss, aud and typ checked, the claims required, an
 * unknown kid refused (RFC 8725). Throws when it is not a valid client token.
 */
export function createClientTokenVerifier (options: ClientTokenVerifierOptions): (token: string) => Promise<VerifiedClientToken> {
  let cachedFor: JWK[] | undefined
  let keySet: JWTVerifyGetKey | undefined
  const keyFor = (): JWTVerifyGetKey | Uint8Array => {
    if (options.algorithm === 'HS256') return new TextEncoder().encode(options.secret)
    const jwks = options.publicJwks()
    if (keySet === undefined || cachedFor !== jwks) {
      keySet = createLocalJWKSet({ keys: jwks })
      cachedFor = jwks
    }
    return keySet
  }
  return async function verifyClientToken (token) {
    const key = keyFor()
    // Two calls only for TypeScript: jwtVerify's overloads take a key or a key getter, not their union.
    const { payload, protectedHeader } = typeof key === 'function'
      ? await jwtVerify(token, key, verifyOptions(options))
      : await jwtVerify(token, key, verifyOptions(options))
    if (options.algorithm !== 'HS256' && typeof protectedHeader.kid !== 'string') throw new joseErrors.JWTInvalid('no kid')
    const claims = payload as unknown as VerifiedClientToken
    if (claims.token_type !== 'access' || typeof claims.client_id !== 'string' || claims.client_id !== claims.sub || typeof claims.scope !== 'string' || 'sid' in claims) {
      throw new joseErrors.JWTClaimValidationFailed('not a client access token', payload)
    }
    return claims
  }
}

function verifyOptions (options: ClientTokenVerifierOptions) {
  return {
    algorithms: [options.algorithm],
    issuer: options.issuer,
    audience: options.audience,
    typ: ACCESS_TOKEN_TYPE,
    requiredClaims: ['exp', 'iat', 'iss', 'aud', 'sub', 'jti', 'client_id', 'scope', 'token_type']
  }
}
