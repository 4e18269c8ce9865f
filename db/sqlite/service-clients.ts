// The service clients repository on SQLite: clients, their hashed secrets, and revoked client tokens.
import type { NewAuditEvent, ServiceClientRecord, ServiceClientRepository } from '../repositories.js'
import type { SqliteDb } from './connection.js'
import { revocationRecorder } from './revocations.js'
import { auditRecorder } from './audit.js'

interface ClientRow { id: string, name: string, scopes: string, secret_hash: string, created_at: number, last_used_at: number | null }

function toClient (row: ClientRow): ServiceClientRecord {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes === '' ? [] : row.scopes.split(' '),
    createdAt: new Date(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at)
  }
}

export function sqliteServiceClientRepository (db: SqliteDb): ServiceClientRepository {
  const client = db.$client
  const record = revocationRecorder(db)
  const audit = auditRecorder(db)
  const statements = {
    insert: client.prepare('INSERT INTO service_clients (id, name, scopes, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)'),
    list: client.prepare<[], ClientRow>('SELECT * FROM service_clients ORDER BY created_at, id'),
    byId: client.prepare<[string], ClientRow>('SELECT * FROM service_clients WHERE id = ?'),
    delete: client.prepare('DELETE FROM service_clients WHERE id = ?'),
    touch: client.prepare('UPDATE service_clients SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)'),
    revokeToken: client.prepare('INSERT OR IGNORE INTO revoked_client_tokens (jti, client_id, expires_at) VALUES (?, ?, ?)'),
    isRevoked: client.prepare<[string], { found: number }>('SELECT 1 AS found FROM revoked_client_tokens WHERE jti = ?'),
    pruneRevoked: client.prepare('DELETE FROM revoked_client_tokens WHERE jti IN (SELECT jti FROM revoked_client_tokens WHERE expires_at < ? LIMIT ?)')
  }

  // The feed's event commits with the denylist entry: a revoked client token is always in the feed.
  const revokeAndRecord = client.transaction((token: { jti: string, clientId: string, expiresAt: Date }, now: Date) => {
    if (statements.revokeToken.run(token.jti, token.clientId, token.expiresAt.getTime()).changes > 0) record.token(token.jti, now)
  })

  // The event and the delete commit together: a deleted client is always in the feed.
  const deleteAndRecord = client.transaction((id: string, now: Date, events: NewAuditEvent[]) => {
    const deleted = statements.delete.run(id).changes > 0
    if (deleted) {
      record.subject(id, now)
      audit.append(events)
    }
    return deleted
  })
  const insertAndRecord = client.transaction((input: ServiceClientRecord & { secretHash: string }, events: NewAuditEvent[]) => {
    statements.insert.run(input.id, input.name, input.scopes.join(' '), input.secretHash, input.createdAt.getTime())
    audit.append(events)
  })

  return {
    async create (input, events = []) {
      insertAndRecord.immediate(input, events)
      return { id: input.id, name: input.name, scopes: input.scopes, createdAt: input.createdAt, lastUsedAt: null }
    },

    async list () {
      return statements.list.all().map(toClient)
    },

    async findWithSecret (id) {
      const row = statements.byId.get(id)
      return row && { ...toClient(row), secretHash: row.secret_hash }
    },

    async delete (id, now, events = []) {
      return deleteAndRecord.immediate(id, now, events)
    },

    async touch (id, now, minIntervalMs) {
      statements.touch.run(now.getTime(), id, now.getTime() - minIntervalMs)
    },

    async revokeToken (token, now) {
      revokeAndRecord.immediate(token, now)
    },

    async isTokenRevoked (jti) {
      return statements.isRevoked.get(jti) !== undefined
    },

    async pruneRevokedTokens (now, limit) {
      return statements.pruneRevoked.run(now.getTime(), limit).changes
    }
  }
}
