// Token revocation (RFC 7009): a refresh token or user access token ends its session; a client token
// is denylisted until it expires and named (by jti) in the revocation feed. Anything not live is a
// success too (§2.2): there is nothing to end.
import type { ServiceClientRecord } from '../../db/repositories.js'
import { sessionRevoked } from '../audit/events.js'
import { isClientTokenPayload } from './client-tokens.js'
import { peekJwt } from './introspection.js'
import type { OAuthDeps } from './deps.js'
import { oauthErrors } from './errors.js'
import { hashOpaqueToken } from '../sessions/opaque-tokens.js'

const REASON = 'oauth_revoke'

/** The session.revoked event of a user's session ended by a client: the client is the actor. */
function revokedBy (deps: OAuthDeps, client: ServiceClientRecord, userId: string, sessionId: string) {
  return sessionRevoked(deps, userId, REASON, sessionId, { type: 'client', id: client.id })
}

/**
 * Who may revoke what: a client token only by the client it was issued to (§2.1); user tokens were
 * issued to no client, so any authenticated client may revoke them (a service ending the session of
 * a user it saw misbehave, or a front end's back end logging its user out).
 */
export async function revokeToken (deps: OAuthDeps, client: ServiceClientRecord, token: string): Promise<void> {
  const now = deps.now()
  const payload = peekJwt(token)
  if (payload === undefined) {
    const found = await deps.repositories.sessions.findByTokenHash(hashOpaqueToken(token))
    if (found !== undefined) await deps.repositories.sessions.revoke(found.user.id, found.session.id, now, REASON, revokedBy(deps, client, found.user.id, found.session.id))
    return
  }
  if (isClientTokenPayload(payload)) {
    let claims
    try {
      claims = await deps.verifyClientToken(token)
    } catch {
      return
    }
    if (claims.client_id !== client.id) throw oauthErrors.unauthorizedClient('The token was issued to another client.')
    await deps.repositories.serviceClients.revokeToken({ jti: claims.jti, clientId: claims.client_id, expiresAt: new Date(claims.exp * 1000) }, now)
    return
  }
  let claims
  try {
    claims = await deps.verifyUserToken(token)
  } catch {
    return
  }
  await deps.repositories.sessions.revoke(claims.sub, claims.sid, now, REASON, revokedBy(deps, client, claims.sub, claims.sid))
}
