// The revocation feed's reader and pruner on PostgreSQL. Its writer is appendRevocationEvent
// (revocation-events.ts), called by the session, user and client repositories inside their own
// transactions.
//
// Why a poller never misses an event: `seq` comes from a sequence, drawn before commit, so without
// care a slow transaction could commit seq 10 after seq 11 had already been served, and a poller
// whose cursor is past 11 would never see 10. Every writer therefore takes the feed's advisory lock
// just before drawing its seq and holds it to commit (the insert is the last statement of its
// transaction): events commit one at a time in seq order, and once a poller has seen seq n, every
// event with a smaller seq has committed or rolled back for good. Reading `seq > cursor` is then
// complete; a rolled-back seq leaves a gap that nothing fills later.
import { asc, gte, gt, lt, inArray, max, sql } from 'drizzle-orm'
import type { RevocationEvent, RevocationRepository } from '../repositories.js'
import type { PgDb } from './database.js'
import { revocationEvents } from './schema.js'

export function postgresRevocationRepository (db: PgDb): RevocationRepository {
  return {
    async list (options): Promise<RevocationEvent[]> {
      const after = options.afterSeq !== undefined
        ? gt(revocationEvents.seq, options.afterSeq)
        : gte(revocationEvents.createdAt, options.since ?? new Date(0))
      return db.select().from(revocationEvents).where(after).orderBy(asc(revocationEvents.seq)).limit(options.limit)
    },

    async latestSeq () {
      const [row] = await db.select({ seq: max(revocationEvents.seq) }).from(revocationEvents)
      return Number(row?.seq ?? 0)
    },

    async issuedSeq () {
      // The sequence's last value outlives pruning (and is null before its first use); it only grows,
      // so a cursor above it was never handed out by this database.
      const result = await db.execute<{ seq: string | number | null }>(sql`
        SELECT greatest(
          coalesce(pg_sequence_last_value(pg_get_serial_sequence('revocation_events', 'seq')::regclass), 0),
          coalesce((SELECT max(seq) FROM revocation_events), 0)) AS seq`)
      return Number(result.rows[0]?.seq ?? 0)
    },

    async prune (before, limit) {
      const old = db.select({ seq: revocationEvents.seq }).from(revocationEvents)
        .where(lt(revocationEvents.createdAt, before))
        .orderBy(asc(revocationEvents.seq))
        .limit(limit)
      const deleted = await db.delete(revocationEvents).where(inArray(revocationEvents.seq, old))
      return deleted.rowCount ?? 0
    }
  }
}
