// The passkey repository on SQLite: a user's WebAuthn credentials.
import { and, asc, count, eq, isNotNull } from 'drizzle-orm'
import type { PasskeyRecord, PasskeyRepository } from '../repositories.js'
import { auditRecorder } from './audit.js'
import type { SqliteDb } from './connection.js'
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

export function sqlitePasskeyRepository (db: SqliteDb): PasskeyRepository {
  const audit = auditRecorder(db)

  return {
    async listByUser (userId) {
      return db.select().from(passkeys).where(eq(passkeys.userId, userId)).orderBy(asc(passkeys.createdAt), asc(passkeys.id)).all().map(record)
    },

    async findByCredentialId (credentialId) {
      const row = db.select().from(passkeys).where(eq(passkeys.credentialId, credentialId)).get()
      return row && record(row)
    },

    async create (passkey, events = []) {
      return db.transaction(tx => {
        const inserted = tx.insert(passkeys).values({ ...passkey, transports: JSON.stringify(passkey.transports) })
          .onConflictDoNothing({ target: passkeys.credentialId }).run().changes > 0
        if (inserted) audit.append(events)
        return inserted
      }, { behavior: 'immediate' })
    },

    async rename (userId, id, name) {
      const row = db.update(passkeys).set({ name }).where(and(eq(passkeys.id, id), eq(passkeys.userId, userId))).returning().get()
      return row && record(row)
    },

    async delete (userId, id, events = []) {
      return db.transaction(tx => {
        const deleted = tx.delete(passkeys).where(and(eq(passkeys.id, id), eq(passkeys.userId, userId))).run().changes > 0
        if (!deleted) return false
        // Recovery codes back up a second factor: with none left they would be one on their own.
        const keys = tx.select({ n: count() }).from(passkeys).where(eq(passkeys.userId, userId)).get()
        const totp = tx.select({ userId: mfaTotp.userId }).from(mfaTotp).where(and(eq(mfaTotp.userId, userId), isNotNull(mfaTotp.confirmedAt))).get()
        if ((keys?.n ?? 0) === 0 && totp === undefined) tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId)).run()
        audit.append(events)
        return true
      }, { behavior: 'immediate' })
    },

    async recordUse (id, expectedCounter, counter, backedUp, now) {
      // The condition is the replay check: of two assertions with the same counter, one changes the row.
      return db.update(passkeys).set({ counter, backedUp, lastUsedAt: now })
        .where(and(eq(passkeys.id, id), eq(passkeys.counter, expectedCounter)))
        .run().changes > 0
    }
  }
}
