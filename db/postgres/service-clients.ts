// The service clients repository on PostgreSQL: clients, their hashed secrets, and revoked client tokens.
import { and, asc, eq, isNull, lte, or, sql } from 'drizzle-orm'
import type { ServiceClientRecord, ServiceClientRepository } from '../repositories.js'
import { hasNul, inTransaction, type PgDb } from './database.js'
import { appendRevocationEvent } from './revocation-events.js'
import { appendAuditEvents } from './audit-events.js'
import { revokedClientTokens, serviceClients } from './schema.js'

type ClientRow = typeof serviceClients.$inferSelect

function toClient (row: ClientRow): ServiceClientRecord {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes === '' ? [] : row.scopes.split(' '),
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt
  }
}

export function postgresServiceClientRepository (db: PgDb): ServiceClientRepository {
  return {
    async create (input, events = []) {
      await inTransaction(db, async tx => {
        await tx.insert(serviceClients).values({
          id: input.id,
          name: input.name,
          scopes: input.scopes.join(' '),
          secretHash: input.secretHash,
          createdAt: input.createdAt
        })
        await appendAuditEvents(tx, events)
      })
      return { id: input.id, name: input.name, scopes: input.scopes, createdAt: input.createdAt, lastUsedAt: null }
    },

    async list () {
      const rows = await db.select().from(serviceClients).orderBy(asc(serviceClients.createdAt), sql`${serviceClients.id} COLLATE "C"`)
      return rows.map(toClient)
    },

    async findWithSecret (id) {
      if (hasNul(id)) return
      const [row] = await db.select().from(serviceClients).where(eq(serviceClients.id, id))
      return row && { ...toClient(row), secretHash: row.secretHash }
    },

    async delete (id, now, events = []) {
      if (hasNul(id)) return false
      // The event and the delete commit together: a deleted client is always in the feed.
      return inTransaction(db, async tx => {
        const deleted = await tx.delete(serviceClients).where(eq(serviceClients.id, id)).returning({ id: serviceClients.id })
        if (deleted.length === 0) return false
        await appendRevocationEvent(tx, { subject: id }, now)
        await appendAuditEvents(tx, events)
        return true
      })
    },

    async touch (id, now, minIntervalMs) {
      // Conditional: a client authenticating many times a second writes once per interval, and
      // concurrent requests on several instances do not all write.
      await db.update(serviceClients).set({ lastUsedAt: now }).where(and(
        eq(serviceClients.id, id),
        or(isNull(serviceClients.lastUsedAt), lte(serviceClients.lastUsedAt, new Date(now.getTime() - minIntervalMs)))
      ))
    },

    async revokeToken (token, now) {
      // Idempotent: revoking a token twice (or on two instances at once) is not an error, and only
      // the revocation that inserted the denylist entry records it in the feed, in its transaction.
      await inTransaction(db, async tx => {
        const inserted = await tx.insert(revokedClientTokens).values(token)
          .onConflictDoNothing({ target: revokedClientTokens.jti }).returning({ jti: revokedClientTokens.jti })
        if (inserted.length > 0) await appendRevocationEvent(tx, { jti: token.jti }, now)
      })
    },

    async isTokenRevoked (jti) {
      if (hasNul(jti)) return false
      const [row] = await db.select({ jti: revokedClientTokens.jti }).from(revokedClientTokens).where(eq(revokedClientTokens.jti, jti))
      return row !== undefined
    },

    async pruneRevokedTokens (now, limit) {
      const deleted = await db.execute(sql`DELETE FROM revoked_client_tokens WHERE jti IN (
                                             SELECT jti FROM revoked_client_tokens WHERE expires_at < ${now}
                                              LIMIT ${limit} FOR UPDATE SKIP LOCKED)`)
      return deleted.rowCount ?? 0
    }
  }
}
