// The passkey repository on SQLite: a user's WebAuthn credentials.
import { and, asc, eq } from 'drizzle-orm'
import { toPasskey } from '../records.js'
import type { PasskeyRepository } from '../repositories.js'
import { auditRecorder } from './audit.js'
import { dropOrphanRecoveryCodes } from './mfa.js'
import type { SqliteDb } from './connection.js'
import { passkeys } from './schema.js'

export function sqlitePasskeyRepository (db: SqliteDb): PasskeyRepository {
  const audit = auditRecorder(db)

  return {
    async listByUser (userId) {
      return db.select().from(passkeys).where(eq(passkeys.userId, userId)).orderBy(asc(passkeys.createdAt), asc(passkeys.id)).all().map(toPasskey)
    },

    async findByCredentialId (credentialId) {
      const row = db.select().from(passkeys).where(eq(passkeys.credentialId, credentialId)).get()
      return row && toPasskey(row)
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
      return row && toPasskey(row)
    },

    async delete (userId, id, events = []) {
      return db.transaction(tx => {
        const deleted = tx.delete(passkeys).where(and(eq(passkeys.id, id), eq(passkeys.userId, userId))).run().changes > 0
        if (!deleted) return false
        dropOrphanRecoveryCodes(tx, userId)
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
