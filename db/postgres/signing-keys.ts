// The signing-keys repository on PostgreSQL.
import { and, asc, eq, gt, isNotNull, isNull, lte, or, sql } from 'drizzle-orm'
import type { KeyRotationRequest, SigningKeyRepository } from '../repositories.js'
import { advisoryLocks, inTransaction, type PgDb, type PgTx } from './database.js'
import { signingKeys } from './schema.js'

async function rotateLocked (tx: PgTx, request: KeyRotationRequest) {
  const { now } = request
  // Two instances rotating at once serialise on this lock, held to commit. Under READ COMMITTED each
  // later statement reads what was committed when it starts, so the second instance, once it has
  // the lock, sees the first one's key and `unless` stops it: one key however many instances rotate.
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${advisoryLocks.keyRotation})`)
  const live = or(isNull(signingKeys.retiredAt), gt(signingKeys.retiredAt, now))
  if (request.unless !== undefined) {
    const [newer] = await tx.select({ kid: signingKeys.kid }).from(signingKeys)
      .where(and(eq(signingKeys.algorithm, request.unless.algorithm), gt(signingKeys.createdAt, request.unless.liveSince), live))
      .limit(1)
    if (newer !== undefined) return { rotated: false, retired: [] }
  }
  // least(): a key already due to retire earlier keeps its date.
  const retired = await tx.update(signingKeys)
    .set({ retiredAt: sql`least(coalesce(${signingKeys.retiredAt}, ${request.retireAt}), ${request.retireAt})` })
    .where(live)
    .returning({ kid: signingKeys.kid })
  if (request.key !== undefined) await tx.insert(signingKeys).values({ ...request.key, retiredAt: null })
  return { rotated: true, retired: retired.map(row => row.kid).sort() }
}

export function postgresSigningKeyRepository (db: PgDb): SigningKeyRepository {
  return {
    async list () {
      return db.select().from(signingKeys).orderBy(asc(signingKeys.createdAt), asc(signingKeys.kid))
    },

    async rotate (request) {
      return inTransaction(db, tx => rotateLocked(tx, request))
    },

    async deleteRetiredBefore (before) {
      const deleted = await db.delete(signingKeys).where(and(isNotNull(signingKeys.retiredAt), lte(signingKeys.retiredAt, before)))
      return deleted.rowCount ?? 0
    }
  }
}
