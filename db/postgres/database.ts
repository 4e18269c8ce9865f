// The PostgreSQL handle's type, and the transaction discipline every repository follows: retry on
// serialization failures and deadlocks, and unique violations named by constraint.
import { setTimeout as delay } from 'node:timers/promises'
import type { NodePgDatabase } from 'drizzle-orm/node-postgres'
import type { Pool } from 'pg'
import { errorChain } from '../error-causes.js'
import * as schema from './schema.js'

export type PgDb = NodePgDatabase<typeof schema> & { $client: Pool }
export type PgTx = Parameters<Parameters<PgDb['transaction']>[0]>[0]
/** A handle or an open transaction: helpers that write inside the caller's transaction take either. */
export type PgExecutor = PgDb | PgTx

/**
 * PostgreSQL's text cannot hold U+0000 (it refuses the query), so no stored key contains one: a
 * look-up by such a value can only find nothing, and answers so instead of failing.
 */
export function hasNul (...values: string[]): boolean {
  return values.some(value => value.includes('\u0000'))
}

const SERIALIZATION_FAILURE = '40001'
const DEADLOCK_DETECTED = '40P01'
const UNIQUE_VIOLATION = '23505'
const MAX_ATTEMPTS = 5

/** The PostgreSQL error behind drizzle's wrapper (DrizzleQueryError keeps it as `cause`). */
export function pgError (err: unknown): { code?: string, constraint?: string } | undefined {
  for (const link of errorChain(err)) {
    if (typeof link.code === 'string' && /^[0-9A-Z]{5}$/.test(link.code)) return link as { code: string, constraint?: string }
  }
  return undefined
}

/** The unique constraint (index) a write broke, or undefined if it failed otherwise. */
export function uniqueConstraint (err: unknown): string | undefined {
  const cause = pgError(err)
  return cause?.code === UNIQUE_VIOLATION ? (cause.constraint ?? '') : undefined
}

export function isRetryable (err: unknown): boolean {
  const code = pgError(err)?.code
  return code === SERIALIZATION_FAILURE || code === DEADLOCK_DETECTED
}

/**
 * Runs `work` in a transaction, again from the start when PostgreSQL aborts it for a serialization
 * failure or a deadlock (the client never sees those as a 500). `work` must have no effects outside
 * the database, since it may run more than once.
 */
export async function inTransaction<T> (db: PgDb, work: (tx: PgTx) => Promise<T>, config?: Parameters<PgDb['transaction']>[1]): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(work, config)
    } catch (err) {
      if (attempt >= MAX_ATTEMPTS || !isRetryable(err)) throw err
      // Jittered backoff, so that the transactions that collided do not collide again.
      await delay(Math.random() * 10 * 2 ** attempt)
    }
  }
}

/**
 * Keys of transaction-scoped advisory locks (pg_advisory_xact_lock). One namespace, so that no two
 * uses of a lock collide.
 */
export const advisoryLocks = {
  /** Held from a revocation event's insert to its commit: events commit in `seq` order. */
  revocationFeed: 7_300_001,
  /** Held for a whole key rotation: two instances rotating at once serialise. */
  keyRotation: 7_300_002,
  /** Held (session-scoped) while migrations run: five instances starting at once migrate once. */
  migrations: 7_300_003,
  /** Held while a background job claim is decided. */
  backgroundJobs: 7_300_004
} as const
