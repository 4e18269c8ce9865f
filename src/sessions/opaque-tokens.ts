// Opaque bearer secrets (refresh, email verification, password reset): random values whose SHA-256
// is all the database ever holds.
import { createHash, randomBytes } from 'node:crypto'

/** 256 random bits, base64url (43 characters). */
export function newOpaqueToken (): string {
  return randomBytes(32).toString('base64url')
}

/** The tokens carry 256 bits of entropy, so a fast hash suffices: there is nothing to brute-force. */
export function hashOpaqueToken (token: string): string {
  return createHash('sha256').update(token).digest('hex')
}
