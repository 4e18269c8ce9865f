// Whether a stored refresh token still stands: one rule for introspection and simplejwt's verify and blacklist.
import type { RefreshTokenRecord, SessionRecord, UserRecord } from '../../db/repositories.js'
import { canAuthenticate } from '../accounts/state.js'

export interface FoundRefreshToken {
  token: RefreshTokenRecord
  session: SessionRecord
  user: UserRecord
}

/** The live token of a live session: not rotated (even within the reuse grace window, only its successor is), revoked or expired. */
export function isLiveRefreshToken (found: FoundRefreshToken | undefined, now: Date): found is FoundRefreshToken {
  return found !== undefined && found.token.rotatedAt === null && found.token.expiresAt > now &&
    found.session.revokedAt === null && found.session.expiresAt > now
}

/** Live, and its user may still authenticate (not banned, not disabled): a refresh with it would succeed. */
export function isUsableRefreshToken (found: FoundRefreshToken | undefined, now: Date): found is FoundRefreshToken {
  return isLiveRefreshToken(found, now) && canAuthenticate(found.user, now)
}
