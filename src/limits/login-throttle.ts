// Login failure limits, per account and per client address (django-allauth's `login_failed`).
// Checked before the password is, so while an account is limited the right and the wrong password
// get the same 429.
import type { RateLimit } from '../config.js'
import type { AttemptStore } from './attempt-counter.js'
import { errors } from '../errors.js'
import { clientKey } from './client-key.js'

export interface LoginThrottle {
  /** Throws 429 rate_limited when the account or the address has failed too often. */
  assertAllowed (accountKey: string, ip: string, now: Date): Promise<void>
  recordFailure (accountKey: string, ip: string, now: Date): Promise<void>
  /** A successful login clears the account's failures (not the address's). */
  recordSuccess (accountKey: string): Promise<void>
}

export function createLoginThrottle (store: AttemptStore, limits: { perAccount: RateLimit, perIp: RateLimit, ipv6Prefix?: number }): LoginThrottle {
  const rules = [
    { limit: limits.perAccount, key: (account: string, _ip: string) => `login-failures:account:${account}` },
    { limit: limits.perIp, key: (_account: string, ip: string) => `login-failures:ip:${clientKey(ip, limits.ipv6Prefix)}` }
  ].filter(rule => rule.limit.max > 0)

  return {
    async assertAllowed (accountKey, ip, now) {
      for (const rule of rules) {
        const current = await store.get(rule.key(accountKey, ip), now.getTime())
        if (current !== undefined && current.count >= rule.limit.max) {
          throw errors.rateLimited(Math.max(1, Math.ceil((current.resetAt - now.getTime()) / 1000)))
        }
      }
    },
    async recordFailure (accountKey, ip, now) {
      for (const rule of rules) {
        await store.increment(rule.key(accountKey, ip), rule.limit.windowSeconds * 1000, now.getTime())
      }
    },
    async recordSuccess (accountKey) {
      await store.delete(`login-failures:account:${accountKey}`)
    }
  }
}
