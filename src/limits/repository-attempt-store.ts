// Attempt counters in the database (PostgreSQL without Redis), shared by every instance on it.
import type { AttemptCounterRepository, AttemptWindow } from '../../db/repositories.js'
import type { AttemptCount, AttemptStore } from './attempt-counter.js'
import { sharedKey } from './shared-key.js'

export interface RepositoryAttemptStoreOptions {
  /** How often ended windows are deleted; 0 turns the sweeper off. */
  sweepIntervalMs?: number
  /** At most this many rows per sweep: a short delete, and a backlog drains over several sweeps. */
  sweepBatchSize?: number
  onSweepError?: (err: unknown) => void
}

function toCount (window: AttemptWindow): AttemptCount {
  return { count: window.count, resetAt: window.resetAt.getTime() }
}

/**
 * The repository's increment is atomic, so instances racing on one key never lose a count. Ended
 * windows are swept here, like the memory store's, so one-off keys (addresses, typed logins) cannot
 * grow the table; a sweep by every instance is harmless, each deletes only what has ended.
 */
export function createRepositoryAttemptStore (repository: AttemptCounterRepository, options: RepositoryAttemptStoreOptions = {}): AttemptStore {
  const { sweepIntervalMs = 60_000, sweepBatchSize = 500, onSweepError = () => {} } = options
  let sweeping = false
  const sweeper = sweepIntervalMs > 0
    ? setInterval(() => {
      if (sweeping) return
      sweeping = true
      repository.prune(new Date(), sweepBatchSize)
        .catch(onSweepError)
        .finally(() => { sweeping = false })
    }, sweepIntervalMs)
    : undefined
  sweeper?.unref()

  return {
    async increment (key, windowMs, now) {
      return toCount(await repository.increment(sharedKey(key), windowMs, new Date(now)))
    },
    async get (key, now) {
      const window = await repository.get(sharedKey(key), new Date(now))
      return window === undefined ? undefined : toCount(window)
    },
    async decrement (key, now) {
      await repository.decrement(sharedKey(key), new Date(now))
    },
    async delete (key) {
      await repository.delete(sharedKey(key))
    },
    async close () {
      clearInterval(sweeper)
    }
  }
}
