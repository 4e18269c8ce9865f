// Client access tokens (client credentials grant): the claims, and their verification. They are
// signed like user access tokens (same key, `typ: at+jwt`, iss, aud, exp) but name a client, not a user.
import { randomUUID } from 'node:crypto'
import type { AccessTokenClaims } from '../sessions/access-tokens.js'

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
export function signClientToken (sign: (claims: AccessTokenClaims) => Promise<string>, claims: ClientTokenClaims): Promise<string> {
  return sign(claims as unknown as AccessTokenClaims)
}

/** Whether a JWT's payload names a client: the one claim user tokens never carry. */
export function isClientTokenPayload (payload: Record<string, unknown>): boolean {
  return 'client_id' in payload
}

/**
 * The claims of a token the key ring verified, if they are a client token's: `client_id` equal to
 * `sub`, a `scope`, and no session. Throws otherwise (a user's token, or a malformed client token).
 */
export function clientTokenFrom (payload: Record<string, unknown>): VerifiedClientToken {
  if (payload.token_type !== 'access' || typeof payload.client_id !== 'string' || payload.client_id !== payload.sub ||
    typeof payload.scope !== 'string' || 'sid' in payload) {
    throw new Error('not a client access token')
  }
  return payload as unknown as VerifiedClientToken
}
