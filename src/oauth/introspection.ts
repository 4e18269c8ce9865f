// Token introspection (RFC 7662): whether a user access token, client access token or refresh token
// is live, and what it says. A token that is not live is `{active: false}`, never an error.
import { decodeJwt } from 'jose'
import type { ServiceClientRecord } from '../../db/repositories.js'
import { isUsableRefreshToken } from '../sessions/refresh-liveness.js'
import { isClientTokenPayload, type VerifiedClientToken } from './client-tokens.js'
import type { OAuthDeps, VerifiedUserToken } from './deps.js'
import { hashOpaqueToken } from '../sessions/opaque-tokens.js'

export type TokenTypeHint = 'access_token' | 'refresh_token'

export interface Introspection {
  active: boolean
  sub?: string
  client_id?: string
  scope?: string
  username?: string
  sid?: string
  exp?: number
  iat?: number
  iss?: string
  aud?: string
  jti?: string
  /** Which kind of token this is: `access_token` or `refresh_token`. */
  token_type?: TokenTypeHint
}

const INACTIVE: Introspection = { active: false }

/** A JWT's payload read without checking it, to tell client tokens from user tokens; undefined if it is no JWT. */
export function peekJwt (token: string): Record<string, unknown> | undefined {
  if (token.split('.').length !== 3) return undefined
  try {
    return decodeJwt(token)
  } catch {
    return undefined
  }
}

/** A user access token that verifies, with a live session and an able account; undefined otherwise. */
export async function liveUserToken (deps: OAuthDeps, token: string): Promise<{ claims: VerifiedUserToken, username: string } | undefined> {
  try {
    const claims = await deps.verifyUserToken(token)
    const principal = await deps.loadPrincipal(claims)
    return { claims, username: principal.user.username }
  } catch {
    return undefined
  }
}

/** A client access token that verifies, whose client still exists and that was not revoked. */
export async function liveClientToken (deps: OAuthDeps, token: string): Promise<{ claims: VerifiedClientToken, client: ServiceClientRecord } | undefined> {
  let claims: VerifiedClientToken
  try {
    claims = await deps.verifyClientToken(token)
  } catch {
    return undefined
  }
  const { serviceClients } = deps.repositories
  const found = await serviceClients.findWithSecret(claims.client_id)
  if (found === undefined || await serviceClients.isTokenRevoked(claims.jti)) return undefined
  const { secretHash: _secretHash, ...client } = found
  return { claims, client }
}

async function introspectRefreshToken (deps: OAuthDeps, token: string): Promise<Introspection> {
  const found = await deps.repositories.sessions.findByTokenHash(hashOpaqueToken(token))
  if (!isUsableRefreshToken(found, deps.now())) return INACTIVE
  const { token: record, session, user } = found
  return {
    active: true,
    sub: user.id,
    username: user.username,
    sid: session.id,
    exp: Math.floor(record.expiresAt.getTime() / 1000),
    iat: Math.floor(record.createdAt.getTime() / 1000),
    token_type: 'refresh_token'
  }
}

async function introspectAccessToken (deps: OAuthDeps, token: string, payload: Record<string, unknown>): Promise<Introspection> {
  if (isClientTokenPayload(payload)) {
    const live = await liveClientToken(deps, token)
    if (live === undefined) return INACTIVE
    const { sub, scope, exp, iat, iss, aud, jti } = live.claims
    return { active: true, sub, client_id: live.claims.client_id, scope, exp, iat, iss, aud, jti, token_type: 'access_token' }
  }
  const live = await liveUserToken(deps, token)
  if (live === undefined) return INACTIVE
  const { sub, sid, exp, iat, iss, aud, jti } = live.claims
  return { active: true, sub, username: live.username, sid, exp, iat, iss, aud, jti, token_type: 'access_token' }
}

/**
 * Access tokens are JWTs and refresh tokens are opaque, so the token's shape says where to look;
 * the hint (RFC 7662 §2.1) can only be a guess, and a wrong one must not hide a live token.
 */
export async function introspect (deps: OAuthDeps, token: string): Promise<Introspection> {
  const payload = peekJwt(token)
  return payload === undefined ? introspectRefreshToken(deps, token) : introspectAccessToken(deps, token, payload)
}
