// What a downstream service sees of a verified Portcullis access token (RFC 9068 profile).

/** The claims of a user token; a client-credentials token has `client_id` and `scope` instead of the user claims. */
export interface VerifiedToken {
  iss: string
  aud: string | string[]
  /** The user id, or the client id of a client-credentials token. */
  sub: string
  iat: number
  exp: number
  jti: string
  token_type: 'access'
  /** The session id (user tokens): named in the revocation feed when the session ends. */
  sid?: string
  user_id?: string
  email?: string
  username?: string
  email_verified?: boolean
  is_staff?: boolean
  groups?: string[]
  permissions?: string[]
  /** How the user authenticated (RFC 8176: pwd, otp, hwk, swk, user, mfa, fed). */
  amr?: string[]
  /** `aal1` (one factor) or `aal2` (two factors, or a user-verified passkey). */
  acr?: string
  /** Client-credentials tokens: the client and its space-separated scopes. */
  client_id?: string
  scope?: string
  [claim: string]: unknown
}

/** The `typ` header of every Portcullis access token. */
export const ACCESS_TOKEN_TYP = 'at+jwt'

/** Claims a token must carry before anything else is looked at (API.md, "Tokens"). */
export const REQUIRED_CLAIMS = ['iss', 'aud', 'sub', 'iat', 'exp', 'jti', 'token_type']

function stringList (value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []
}

/** The token's permissions; a malformed claim counts as none. */
export function permissionsOf (token: VerifiedToken): string[] {
  return stringList(token.permissions)
}

/** The token's scopes (RFC 8693 `scope`, space-separated); a malformed claim counts as none. */
export function scopesOf (token: VerifiedToken): string[] {
  return typeof token.scope === 'string' ? token.scope.split(' ').filter(Boolean) : []
}
