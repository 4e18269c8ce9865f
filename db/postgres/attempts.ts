// Fixed-window attempt counters on PostgreSQL, shared by every instance on the database.
import { and, eq, gt, sql } from 'drizzle-orm'
import type { AttemptCounterRepository } from '../repositories.js'
import type { PgDb } from './database.js'
import { attemptCounters } from './schema.js'

export function postgresAttemptCounterRepository (db: PgDb): AttemptCounterRepository {
  return {
    async increment (key, windowMs, now) {
      // One statement, so concurrent increments on any number of instances never lose a count: the
      // insert or the row lock of ON CONFLICT orders them. An ended window starts over at 1.
      const [window] = await db.insert(attemptCounters)
        .values({ key, count: 1, resetAt: new Date(now.getTime() + windowMs) })
        .onConflictDoUpdate({
          target: attemptCounters.key,
          set: {
            count: sql`CASE WHEN attempt_counters.reset_at <= ${now} THEN 1 ELSE attempt_counters.count + 1 END`,
            resetAt: sql`CASE WHEN attempt_counters.reset_at <= ${now} THEN excluded.reset_at ELSE attempt_counters.reset_at END`
          }
        })
        .returning({ count: attemptCounters.count, resetAt: attemptCounters.resetAt })
      return window
    },

    async get (key, now) {
      const [window] = await db.select({ count: attemptCounters.count, resetAt: attemptCounters.resetAt }).from(attemptCounters)
        .where(and(eq(attemptCounters.key, key), gt(attemptCounters.resetAt, now)))
      return window
    },

    async decrement (key, now) {
      await db.update(attemptCounters)
        .set({ count: sql`${attemptCounters.count} - 1` })
        .where(and(eq(attemptCounters.key, key), gt(attemptCounters.resetAt, now), gt(attemptCounters.count, 0)))
    },

    async delete (key) {
      await db.delete(attemptCounters).where(eq(attemptCounters.key, key))
    },

    async prune (now, limit) {
      // SKIP LOCKED: never waits on a counter being incremented (its window is being reopened anyway).
      const deleted = await db.execute(sql`DELETE FROM attempt_counters WHERE key IN (
                                             SELECT key FROM attempt_counters WHERE reset_at <= ${now}
                                              LIMIT ${limit} FOR UPDATE SKIP LOCKED)`)
      return deleted.rowCount ?? 0
    }
  }
}
