// A password check counted against the login limits: logins and every operation that re-checks a password.
import type { AuthDeps } from '../deps.js'

export interface AttemptSource {
  /** The key failures are counted under: `user:<id>` for an account (accountThrottleKey), else what was typed. */
  accountKey: string
  ip: string
  now: Date
}

/** The throttle key of an existing account: one limit for its logins and its password re-checks. */
export function accountThrottleKey (userId: string): string {
  return `user:${userId}`
}

/**
 * Whether `password` matches `hash` (an unknown or unusable hash costs a full compare and never
 * matches). The attempt is counted before the compare, so concurrent guesses cannot outrun the
 * limit (429 once it is reached); a right password clears the account's failures and gives the
 * address its attempt back; a compare that never ran (503) is not counted.
 */
export async function checkPassword (deps: Pick<AuthDeps, 'hasher' | 'loginThrottle'>, source: AttemptSource, password: string, hash: string | null | undefined): Promise<boolean> {
  const { accountKey, ip, now } = source
  await deps.loginThrottle.countAttempt(accountKey, ip, now)
  let matches: boolean
  try {
    matches = await deps.hasher.verify(password, hash)
  } catch (err) {
    await deps.loginThrottle.forgetAttempt(accountKey, ip, now)
    throw err
  }
  if (matches) await deps.loginThrottle.recordSuccess(accountKey, ip, now)
  return matches
}
