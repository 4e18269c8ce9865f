// The password rules of the contract and Django's default validators. Returns messages people can act on; an empty list means valid.
import type { BreachedPasswordCheck } from './breached.js'
import { isCommonPassword } from './common-passwords.js'
import { DEFAULT_MAX_SIMILARITY, tooSimilarTo } from './similarity.js'

export interface PasswordContext {
  email?: string
  username?: string
}

/** The configurable rules; the defaults are Django's. */
export interface PasswordRules {
  /** Refuse the passwords of Django's common-password list (CommonPasswordValidator). */
  commonPasswords: boolean
  /** UserAttributeSimilarityValidator's `max_similarity`; 0 turns the check off. */
  maxSimilarity: number
}

export const DJANGO_RULES: PasswordRules = { commonPasswords: true, maxSimilarity: DEFAULT_MAX_SIMILARITY }

/** bcrypt reads at most 72 bytes; a longer password is refused rather than silently truncated. */
export const MAX_PASSWORD_BYTES = 72
export const MIN_PASSWORD_LENGTH = 8

/** The local part of an address, the part a person most often reuses (`ada.lovelace` of `ada.lovelace@example.com`). */
function localPart (email: string | undefined): string | undefined {
  const at = email?.lastIndexOf('@') ?? -1
  return at > 0 ? email!.slice(0, at) : undefined
}

export function passwordProblems (password: string, context: PasswordContext = {}, rules: PasswordRules = DJANGO_RULES): string[] {
  const problems: string[] = []
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    problems.push(`must be at least ${MIN_PASSWORD_LENGTH} characters long`)
  }
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
    problems.push(`must be at most ${MAX_PASSWORD_BYTES} bytes in UTF-8 (bcrypt ignores anything longer)`)
  }
  if (/^\d+$/.test(password)) {
    problems.push('must not be entirely numeric')
  }
  const lowered = password.toLowerCase()
  const email = context.email?.trim()
  if (email !== undefined && lowered === email.toLowerCase()) {
    problems.push('must not be the same as the email address')
  }
  if (context.username !== undefined && lowered === context.username.toLowerCase()) {
    problems.push('must not be the same as the username')
  }
  const sameAsAttribute = problems.some(problem => problem.includes('the same as'))
  if (rules.maxSimilarity > 0 && !sameAsAttribute) {
    // Django compares the username and the email (whole and in parts); the email's local part is
    // compared whole too, since people build passwords from it (`ada.lovelace` → `adalovelace1`).
    const similar = tooSimilarTo(password, [
      ['username', context.username],
      ['email address', email],
      ['email address', localPart(email)]
    ], rules.maxSimilarity)
    if (similar !== undefined) problems.push(`must not be too similar to the ${similar}`)
  }
  if (rules.commonPasswords && isCommonPassword(password)) {
    problems.push('must not be a commonly used password')
  }
  return problems
}

export interface PasswordPolicy {
  /** The rules that need nothing but the password and the account: for a prompt that asks again. */
  problems (password: string, context?: PasswordContext): string[]
  /** Every rule, the breached-password check (when configured) included, after the others pass. */
  check (password: string, context?: PasswordContext): Promise<string[]>
}

export function createPasswordPolicy (rules: PasswordRules = DJANGO_RULES, breached?: BreachedPasswordCheck): PasswordPolicy {
  const problems = (password: string, context: PasswordContext = {}) => passwordProblems(password, context, rules)
  return {
    problems,
    async check (password, context = {}) {
      const found = problems(password, context)
      // Only a password that passes everything else is looked up: no request for one refused anyway.
      if (found.length > 0 || breached === undefined) return found
      return await breached(password) ? ['has appeared in a data breach; choose another one'] : []
    }
  }
}
