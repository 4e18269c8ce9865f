// The signing-keys repository on PostgreSQL.
import { and, asc, eq, gt, isNotNull, isNull, lte, ne, or, sql } from 'drizzle-orm'
import type { KeyRotationRequest, SigningKeyRepository } from '../repositories.js'
import { advisoryLocks, inTransaction, type PgDb, type PgTx } from './database.js'
import { keySettings, signingKeys } from './schema.js'
import { appendAuditEvents } from './audit-events.js'

async function rotateLocked (tx: PgTx, request: KeyRotationRequest) {
  const { now } = request
  // Two instances rotating at once serialise on this lock, held to commit. Under READ COMMITTED each
  // later statement reads what was committed when it starts, so the second instance, once it has
  // the lock, sees the first one's key and `unless` stops it: one key however many instances rotate.
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${advisoryLocks.keyRotation})`)
  const live = or(isNull(signingKeys.retiredAt), gt(signingKeys.retiredAt, now))
  // The live keys this request retires: of `onlyAlgorithm`, not of `exceptAlgorithm`, when given.
  const retiring = and(
    live,
    request.onlyAlgorithm === undefined ? undefined : eq(signingKeys.algorithm, request.onlyAlgorithm),
    request.exceptAlgorithm === undefined ? undefined : ne(signingKeys.algorithm, request.exceptAlgorithm)
  )
  if (request.unless !== undefined) {
    const [newer] = await tx.select({ kid: signingKeys.kid }).from(signingKeys)
      .where(and(eq(signingKeys.algorithm, request.unless.algorithm), gt(signingKeys.createdAt, request.unless.liveSince), live))
      .limit(1)
    if (newer !== undefined) return { rotated: false, retired: [] }
  }
  // least(): a key already due to retire earlier keeps its date.
  const retired = await tx.update(signingKeys)
    .set({ retiredAt: sql`least(coalesce(${signingKeys.retiredAt}, ${request.retireAt}), ${request.retireAt})` })
    .where(retiring)
    .returning({ kid: signingKeys.kid })
  if (request.key !== undefined) {
    await tx.insert(signingKeys).values({ ...request.key, retiredAt: null })
    await appendAuditEvents(tx, request.events ?? [])
  }
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
    },

    async replacePrivateKey (kid, expected, privateKey) {
      const replaced = await db.update(signingKeys).set({ privateKey })
        .where(and(eq(signingKeys.kid, kid), eq(signingKeys.privateKey, expected)))
      return replaced.rowCount === 1
    },

    async settings () {
      const [row] = await db.select({ settings: keySettings.settings }).from(keySettings).where(eq(keySettings.id, 1))
      return row?.settings
    },

    async saveSettings (settings, at) {
      await db.insert(keySettings).values({ id: 1, settings, updatedAt: at })
        .onConflictDoUpdate({ target: keySettings.id, set: { settings, updatedAt: at } })
    }
  }
}
