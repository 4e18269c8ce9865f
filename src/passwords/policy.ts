// The password rules of the contract. Returns messages people can act on; an empty list means valid.

export interface PasswordContext {
  email?: string
  username?: string
}

/** bcrypt reads at most 72 bytes; a longer password is refused rather than silently truncated. */
export const MAX_PASSWORD_BYTES = 72
export const MIN_PASSWORD_LENGTH = 8

export function passwordProblems (password: string, context: PasswordContext = {}): string[] {
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
  if (context.email !== undefined && lowered === context.email.trim().toLowerCase()) {
    problems.push('must not be the same as the email address')
  }
  if (context.username !== undefined && lowered === context.username.toLowerCase()) {
    problems.push('must not be the same as the username')
  }
  return problems
}
