// Recovery codes: 10 per user, 60 random bits each, shown once, stored as SHA-256, each usable once.
import { createHash, randomInt } from 'node:crypto'
import type { AuthDeps } from '../deps.js'
import { errors } from '../errors.js'

export const RECOVERY_CODE_COUNT = 10
// Crockford's base32: no I, L, O or U, so a code read off paper is not mistyped.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
/** 12 characters of 5 bits: 60 bits, formatted xxxx-xxxx-xxxx. */
const LENGTH = 12

function newCode (): string {
  let code = ''
  for (let i = 0; i < LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)]
  return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`
}

/** What the user typed, as it was issued: case, spaces and dashes do not matter, I/L read as 1, O as 0. */
function normalise (input: string): string {
  return input.toLowerCase().replace(/[\s-]/g, '').replace(/[il]/g, '1').replace(/o/g, '0')
}

/** 60 random bits need no slow hash: there is nothing to brute-force offline. */
export function hashRecoveryCode (input: string): string {
  return createHash('sha256').update(normalise(input)).digest('hex')
}

export function newRecoveryCodes (): { codes: string[], hashes: string[] } {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode)
  return { codes, hashes: codes.map(hashRecoveryCode) }
}

/** A new set for a user with a second factor: the old codes die. 409 no_second_factor for a user without one. */
export async function regenerateRecoveryCodes (deps: AuthDeps, userId: string): Promise<string[]> {
  const factors = await deps.repositories.mfa.factors(userId)
  // Codes back up a second factor; alone they would be a factor nobody enrolled.
  if (!factors.totp) throw errors.noSecondFactor()
  const { codes, hashes } = newRecoveryCodes()
  await deps.repositories.mfa.replaceRecoveryCodes(userId, hashes, deps.now())
  return codes
}

/** Uses up one of the user's codes; false for a wrong or used one. */
export async function useRecoveryCode (deps: AuthDeps, userId: string, input: string): Promise<boolean> {
  if (input.length > 64) return false
  return deps.repositories.mfa.useRecoveryCode(userId, hashRecoveryCode(input), deps.now())
}
