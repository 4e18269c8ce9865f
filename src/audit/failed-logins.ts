// Failed logins as audit events, coalesced: a flood of guesses must not become a flood of rows.
import type { AuthDeps } from '../deps.js'
import { clientKey } from '../limits/client-key.js'
import { auditEvent } from './events.js'

/** The window failures of one account (or of unknown accounts) from one address are counted in. */
export const FAILED_LOGIN_WINDOW_MS = 15 * 60 * 1000
/** Entries kept at most; the oldest go first (a spray from many addresses cannot grow memory without end). */
const MAX_KEYS = 10_000

interface Window { startedAt: number, count: number }

const windows = new WeakMap<object, Map<string, Window>>()

/**
 * Counts a failed login of `accountId` (undefined when no account matched: what was typed is never
 * recorded, it may be a password) from `ip`. Coalescing: per account and address, in windows of
 * FAILED_LOGIN_WINDOW_MS, an event is written at the 1st, 2nd, 4th, 8th … failure of the window,
 * carrying the count so far; a flood of n guesses writes about log2(n) rows, and the last one says
 * how many there were (within a factor of two). Counted in this process: each instance coalesces its own.
 * Addresses are grouped as the rate limits group them (RATE_LIMIT_IPV6_PREFIX).
 */
export async function recordFailedLogin (deps: Pick<AuthDeps, 'repositories' | 'now' | 'config'>, accountId: string | undefined, ip: string | null, lockedOut: boolean): Promise<void> {
  let counters = windows.get(deps.repositories)
  if (counters === undefined) {
    counters = new Map()
    windows.set(deps.repositories, counters)
  }
  const now = deps.now().getTime()
  // By the address as the rate limits see it (an IPv6 client by its /64): one client rotating
  // addresses inside its own prefix must not make every guess a window's first.
  const key = `${accountId ?? ''}\u0000${ip === null ? '' : clientKey(ip, deps.config.rateLimitIpv6Prefix)}`
  let window = counters.get(key)
  if (window === undefined || now - window.startedAt >= FAILED_LOGIN_WINDOW_MS) {
    counters.delete(key)
    if (counters.size >= MAX_KEYS) counters.delete(counters.keys().next().value!)
    window = { startedAt: now, count: 0 }
    counters.set(key, window)
  }
  window.count++
  // A power of two: 1, 2, 4, 8 …
  if ((window.count & (window.count - 1)) !== 0) return
  await deps.repositories.audit.append([auditEvent(deps, 'user.login_failed', accountId ?? null, {
    failures: window.count,
    window_started_at: new Date(window.startedAt).toISOString(),
    known_account: accountId !== undefined,
    locked_out: lockedOut
  }, { type: 'user', id: null })])
}
