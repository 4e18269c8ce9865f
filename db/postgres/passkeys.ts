// The passkey repository on PostgreSQL: a user's WebAuthn credentials.
import { and, asc, count, eq, isNotNull, sql } from 'drizzle-orm'
import type { PasskeyRecord, PasskeyRepository } from '../repositories.js'
import { appendAuditEvents } from './audit-events.js'
import { hasNul, inTransaction, type PgDb } from './database.js'
import { mfaRecoveryCodes, mfaTotp, passkeys } from './schema.js'

type Row = typeof passkeys.$inferSelect

function record (row: Row): PasskeyRecord {
  return { ...row, transports: parseTransports(row.transports) }
}

function parseTransports (stored: string): string[] {
  try {
    const parsed: unknown = JSON.parse(stored)
    return Array.isArray(parsed) ? parsed.filter((value): value is string => typeof value === 'string') : []
  } catch {
    return []
  }
}

export function postgresPasskeyRepository (db: PgDb): PasskeyRepository {
  return {
    async listByUser (userId) {
      if (hasNul(userId)) return []
      const rows = await db.select().from(passkeys).where(eq(passkeys.userId, userId)).orderBy(asc(passkeys.createdAt), asc(passkeys.id))
      return rows.map(record)
    },

    async findByCredentialId (credentialId) {
      if (hasNul(credentialId)) return
      const [row] = await db.select().from(passkeys).where(eq(passkeys.credentialId, credentialId))
      return row && record(row)
    },

    async create (passkey, events = []) {
      return inTransaction(db, async tx => {
        const inserted = await tx.insert(passkeys).values({ ...passkey, transports: JSON.stringify(passkey.transports) })
          .onConflictDoNothing({ target: passkeys.credentialId }).returning({ id: passkeys.id })
        if (inserted.length > 0) await appendAuditEvents(tx, events)
        return inserted.length > 0
      })
    },

    async rename (userId, id, name) {
      if (hasNul(userId, id, name)) return
      const [row] = await db.update(passkeys).set({ name }).where(and(eq(passkeys.id, id), eq(passkeys.userId, userId))).returning()
      return row && record(row)
    },

    async delete (userId, id, events = []) {
      if (hasNul(userId, id)) return false
      return inTransaction(db, async tx => {
        // The user's row locked first: a TOTP factor removed at the same time cannot leave the codes without a factor.
        await tx.execute(sql`SELECT id FROM users WHERE id = ${userId} FOR UPDATE`)
        const deleted = await tx.delete(passkeys).where(and(eq(passkeys.id, id), eq(passkeys.userId, userId))).returning({ id: passkeys.id })
        if (deleted.length === 0) return false
        // Recovery codes back up a second factor: with none left they would be one on their own.
        const [keys] = await tx.select({ n: count() }).from(passkeys).where(eq(passkeys.userId, userId))
        const [totp] = await tx.select({ userId: mfaTotp.userId }).from(mfaTotp).where(and(eq(mfaTotp.userId, userId), isNotNull(mfaTotp.confirmedAt)))
        if ((keys?.n ?? 0) === 0 && totp === undefined) await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId))
        await appendAuditEvents(tx, events)
        return true
      })
    },

    async recordUse (id, expectedCounter, counter, backedUp, now) {
      // One conditional UPDATE: of two racing assertions with the same counter, the second changes nothing.
      const used = await db.update(passkeys).set({ counter, backedUp, lastUsedAt: now })
        .where(and(eq(passkeys.id, id), eq(passkeys.counter, expectedCounter)))
        .returning({ id: passkeys.id })
      return used.length > 0
    }
  }
}
