// Login failure limits, per account and per client address (django-allauth's `login_failed`).
// Checked before the password is, so while an account is limited the right and the wrong password
// get the same 429.
import type { RateLimit } from '../config.js'
import type { AttemptStore } from './attempt-counter.js'
import { errors } from '../errors.js'
import { clientKey } from './client-key.js'

export interface LoginThrottle {
  /**
   * Counts one attempt for the account and the address before the password is checked; throws 429
   * rate_limited (and counts nothing) when either has reached its limit. Counting first is what
   * makes a limit hold under concurrency: requests in flight together each take their own count
   * before any compare ends, so at most `max` of them in a window ever reach a compare.
   */
  countAttempt (accountKey: string, ip: string, now: Date): Promise<void>
  /** Gives back an attempt that was not decided (the compare never ran: the hasher was busy). */
  forgetAttempt (accountKey: string, ip: string, now: Date): Promise<void>
  /** The password was right: the account's failures are cleared, and the address's attempt given back. */
  recordSuccess (accountKey: string, ip: string, now: Date): Promise<void>
}

/**
 * `bucket` names the counters in the store: the login throttle's are `login-failures`, the second
 * factor's (wrong TOTP and recovery codes, RATE_LIMIT_MFA_ACCOUNT) `mfa-failures` in the same store.
 */
export function createLoginThrottle (store: AttemptStore, limits: { perAccount: RateLimit, perIp: RateLimit, ipv6Prefix?: number }, bucket = 'login-failures'): LoginThrottle {
  const rules = [
    { limit: limits.perAccount, perAccount: true, key: (account: string, _ip: string) => `${bucket}:account:${account}` },
    { limit: limits.perIp, perAccount: false, key: (_account: string, ip: string) => `${bucket}:ip:${clientKey(ip, limits.ipv6Prefix)}` }
  ].filter(rule => rule.limit.max > 0)

  async function giveBack (counted: string[], now: Date): Promise<void> {
    await Promise.all(counted.map(key => store.decrement(key, now.getTime())))
  }

  return {
    async countAttempt (accountKey, ip, now) {
      const counted: string[] = []
      for (const rule of rules) {
        const key = rule.key(accountKey, ip)
        const current = await store.increment(key, rule.limit.windowSeconds * 1000, now.getTime())
        counted.push(key)
        if (current.count > rule.limit.max) {
          // A refused attempt reaches no compare: it is not counted, so the count stays the attempts
          // that were let through (and the refusals cannot stretch the limit on the other key).
          await giveBack(counted, now)
          throw errors.rateLimited(Math.max(1, Math.ceil((current.resetAt - now.getTime()) / 1000)))
        }
      }
    },
    async forgetAttempt (accountKey, ip, now) {
      await giveBack(rules.map(rule => rule.key(accountKey, ip)), now)
    },
    async recordSuccess (accountKey, ip, now) {
      await Promise.all(rules.map(rule => rule.perAccount
        ? store.delete(rule.key(accountKey, ip))
        : store.decrement(rule.key(accountKey, ip), now.getTime())))
    }
  }
}
