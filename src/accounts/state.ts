// Whether an account may authenticate right now.
import type { UserSummary } from '../../db/repositories.js'

/** A ban with an end in the past no longer applies. */
export function isBanned (user: UserSummary, now: Date): boolean {
  return user.isBanned && (user.bannedUntil === null || user.bannedUntil > now)
}

export function canAuthenticate (user: UserSummary, now: Date): boolean {
  return user.isActive && !isBanned(user, now)
}
