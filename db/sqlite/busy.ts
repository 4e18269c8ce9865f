// Waiting for another process's write lock without blocking the event loop. better-sqlite3 is
// synchronous: a busy_timeout makes SQLite sleep in the calling thread, which is the server's only
// one, so every request (even /health/live) would wait for the lock holder. Instead SQLite is told
// not to wait (busy_timeout 0 once the database is open), and a repository call that meets the lock
// is retried after a timer, with the event loop free in between.
import { channel } from 'node:diagnostics_channel'
import { setTimeout as sleep } from 'node:timers/promises'
import { errorChain } from '../error-causes.js'

/** Published before each wait ({ attempt, delayMs }): for monitoring, and for tests to see a call waiting. */
export const busyChannel = channel('portcullis:sqlite:busy')

/** SQLITE_BUSY and its extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_BUSY_RECOVERY, ...). */
export function isSqliteBusy (err: unknown): boolean {
  for (const link of errorChain(err)) {
    if (typeof link.code === 'string' && link.code.startsWith('SQLITE_BUSY')) return true
  }
  return false
}

/** The waits between attempts: doubling from 2 ms up to 100 ms each, for `budgetMs` in all. */
export function busyRetryDelays (budgetMs: number): number[] {
  const delays: number[] = []
  let total = 0
  for (let delay = 2; total < budgetMs; delay = Math.min(delay * 2, 100)) {
    const next = Math.min(delay, budgetMs - total)
    delays.push(next)
    total += next
  }
  return delays
}

/**
 * Runs `operation`, again after each delay while it fails with SQLITE_BUSY; the last SQLITE_BUSY is
 * thrown (a 503 service_unavailable with Retry-After: db/unavailable.ts). Retrying a whole call is
 * safe: a call that writes more than once does so in one transaction, which SQLite rolled back.
 */
export async function whenNotBusy<T> (operation: () => T | Promise<T>, delays: readonly number[]): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation()
    } catch (err) {
      if (attempt >= delays.length || !isSqliteBusy(err)) throw err
      if (busyChannel.hasSubscribers) busyChannel.publish({ attempt: attempt + 1, delayMs: delays[attempt] })
      await sleep(delays[attempt])
    }
  }
}

/** The repository with each method going through whenNotBusy. */
export function retryingWhenBusy<R extends object> (repository: R, delays: readonly number[]): R {
  const wrapped: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(repository)) {
    wrapped[name] = typeof value === 'function'
      ? (...args: unknown[]) => whenNotBusy(() => (value as (...a: unknown[]) => unknown).apply(repository, args), delays)
      : value
  }
  return wrapped as R
}
