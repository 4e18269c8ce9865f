// The passkey repository on PostgreSQL: a user's WebAuthn credentials.
import { and, asc, eq, sql } from 'drizzle-orm'
import { toPasskey } from '../records.js'
import type { PasskeyRepository } from '../repositories.js'
import { appendAuditEvents } from './audit-events.js'
import { hasNul, inTransaction, type PgDb } from './database.js'
import { dropOrphanRecoveryCodes } from './mfa.js'
import { passkeys } from './schema.js'

export function postgresPasskeyRepository (db: PgDb): PasskeyRepository {
  return {
    async listByUser (userId) {
      if (hasNul(userId)) return []
      const rows = await db.select().from(passkeys).where(eq(passkeys.userId, userId)).orderBy(asc(passkeys.createdAt), asc(passkeys.id))
      return rows.map(toPasskey)
    },

    async findByCredentialId (credentialId) {
      if (hasNul(credentialId)) return
      const [row] = await db.select().from(passkeys).where(eq(passkeys.credentialId, credentialId))
      return row && toPasskey(row)
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
      return row && toPasskey(row)
    },

    async delete (userId, id, events = []) {
      if (hasNul(userId, id)) return false
      return inTransaction(db, async tx => {
        // The user's row locked first: a TOTP factor removed at the same time cannot leave the codes without a factor.
        await tx.execute(sql`SELECT id FROM users WHERE id = ${userId} FOR UPDATE`)
        const deleted = await tx.delete(passkeys).where(and(eq(passkeys.id, id), eq(passkeys.userId, userId))).returning({ id: passkeys.id })
        if (deleted.length === 0) return false
        await dropOrphanRecoveryCodes(tx, userId)
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
