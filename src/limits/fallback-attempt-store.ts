// A shared store (Redis) with a second store that counts while the first one fails.
import type { AttemptStore } from './attempt-counter.js'

export interface FallbackEvents {
  /** The primary store failed and counting moved to the fallback: once per outage. */
  onFallback (err: unknown): void
  /** The primary store answered again: once per outage. */
  onRecovery (): void
}

export interface FallbackAttemptStore extends AttemptStore {
  /** Whether the last word from the primary store was a failure. */
  readonly degraded: boolean
}

export interface FallbackOptions extends FallbackEvents {
  /** While degraded, how long operations go straight to the fallback before the primary is tried again. */
  retryIntervalMs?: number
}

/**
 * Every operation tries the primary store and, when it fails, runs on the fallback instead: a limit
 * (the login throttle above all) never stops counting because Redis is down, and no request fails
 * because of it. While degraded, the primary is tried again once per `retryIntervalMs` (the first
 * operation after it does), so a Redis that hangs rather than refuses costs one request a command
 * timeout now and then, not every request; the first success switches back.
 * Counts made during an outage stay in the fallback: at the start and at the end of an outage a key
 * can get one fresh window, never an unlimited one.
 */
export function createFallbackAttemptStore (primary: AttemptStore, fallback: AttemptStore, options: FallbackOptions): FallbackAttemptStore {
  const { retryIntervalMs = 1000 } = options
  let degraded = false
  let retryAt = 0

  async function run<T> (operation: (store: AttemptStore) => Promise<T>): Promise<T> {
    if (degraded && Date.now() < retryAt) return operation(fallback)
    // An operation that started before the outage was noticed may still succeed after it: only one
    // that started while degraded can tell that the primary is back.
    const startedDegraded = degraded
    let result: T
    try {
      result = await operation(primary)
    } catch (err) {
      retryAt = Date.now() + retryIntervalMs
      if (!degraded) {
        degraded = true
        options.onFallback(err)
      }
      return operation(fallback)
    }
    if (startedDegraded && degraded) {
      degraded = false
      options.onRecovery()
    }
    return result
  }

  return {
    get degraded () { return degraded },
    increment: (key, windowMs, now) => run(store => store.increment(key, windowMs, now)),
    get: (key, now) => run(store => store.get(key, now)),
    decrement: (key, now) => run(store => store.decrement(key, now)),
    delete: key => run(store => store.delete(key)),
    async close () {
      await Promise.all([primary.close(), fallback.close()])
    }
  }
}
