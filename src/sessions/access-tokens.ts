// The claims of an access token (RFC 9068 profile). iss, aud, iat and exp are added by the signer.
import { randomUUID } from 'node:crypto'
import type { Authorization, UserSummary } from '../../db/repositories.js'
import { acrOf } from '../mfa/assurance.js'

export const ACCESS_TOKEN_TYPE = 'at+jwt'

export interface AccessTokenClaims {
  sub: string
  /** The same as sub, for clients written against djangorestframework-simplejwt. */
  user_id: string
  jti: string
  sid: string
  token_type: 'access'
  email: string
  username: string
  email_verified: boolean
  is_staff: boolean
  groups: string[]
  permissions: string[]
  /** How the user authenticated (RFC 8176 values: pwd, otp, hwk, swk, user, mfa, fed). */
  amr: string[]
  /** `aal1` (one factor) or `aal2` (two factors, or a user-verified passkey). */
  acr: 'aal1' | 'aal2'
}

/** Every token the key ring signs (user or client) must carry these; `token_type` must also be "access". */
export const SIGNED_TOKEN_CLAIMS = ['exp', 'iat', 'iss', 'aud', 'sub', 'jti', 'token_type']

/** What a user's access token must carry: the signed claims and its session. */
export const REQUIRED_CLAIMS = [...SIGNED_TOKEN_CLAIMS, 'sid']

/** A user's access token names its session too; a client's never does (and carries `client_id`). */
export function isUserTokenPayload (payload: Record<string, unknown>): boolean {
  return typeof payload.sid === 'string' && !('client_id' in payload)
}

export function accessTokenClaims (user: Pick<UserSummary, 'id' | 'email' | 'username' | 'emailVerified' | 'isStaff'>, sessionId: string, authorization: Authorization, amr: string[]): AccessTokenClaims {
  return {
    sub: user.id,
    user_id: user.id,
    jti: randomUUID(),
    sid: sessionId,
    token_type: 'access',
    email: user.email,
    username: user.username,
    email_verified: user.emailVerified,
    is_staff: user.isStaff,
    groups: [...authorization.groups].sort(),
    permissions: [...authorization.permissions].sort(),
    amr,
    acr: acrOf(amr)
  }
}
