// What a repeated Django import leaves of an email verification: shared by both databases' import.
import type { ImportedUser } from './repositories.js'

/**
 * An imported user's `email_verified` after a later import: verified when Django says so, or when it
 * was verified here and the address is still the same (a new address from Django is not verified by
 * the old one's link).
 */
export function keepsVerification (storedEmail: string, storedVerified: boolean, user: ImportedUser): boolean {
  return user.emailVerified || (storedVerified && storedEmail === user.email)
}
