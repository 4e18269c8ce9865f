// The audit log on SQLite: the recorder every repository writes its events through (inside its own
// transaction, with the outbox rows of the webhooks subscribed to them), and the log's reader and pruner.
// better-sqlite3 is synchronous and SQLite has a single writer: the head is read and moved within
// the writer's transaction, so concurrent appends can never fork the chain.
import { randomUUID } from 'node:crypto'
import { and, asc, eq, gt, gte, lt, lte } from 'drizzle-orm'
import type { AuditCheckpoint, AuditRepository, NewAuditEvent } from '../repositories.js'
import { GENESIS_HASH, entryHash, toAuditEvent, webhookPayload } from '../audit-chain.js'
import type { SqliteDb } from './connection.js'
import { auditCheckpoints, auditEvents } from './schema.js'

export interface AuditRecorder {
  /** Appends the events to the chain and queues their webhook deliveries; call inside a transaction. */
  append (events: NewAuditEvent[]): void
}

export function auditRecorder (db: SqliteDb): AuditRecorder {
  const client = db.$client
  const statements = {
    head: client.prepare<[], { seq: number, hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1'),
    moveHead: client.prepare('INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash'),
    insert: client.prepare(`INSERT INTO audit_events (seq, id, at, type, actor_type, actor_id, subject_id, ip, user_agent, request_id, data, prev_hash, hash)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    webhooks: client.prepare<[], { id: string, events: string }>('SELECT id, events FROM webhooks'),
    queue: client.prepare(`INSERT INTO webhook_deliveries (id, webhook_id, event_seq, event_id, type, payload, ordering_key, status, attempts, next_attempt_at, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`)
  }
  return {
    append (events) {
      if (events.length === 0) return
      let head = statements.head.get() ?? { seq: 0, hash: GENESIS_HASH }
      const subscriptions = statements.webhooks.all().map(row => ({ id: row.id, events: JSON.parse(row.events) as string[] }))
      for (const event of events) {
        const stored = { ...event, seq: head.seq + 1, data: JSON.stringify(event.data) }
        const hash = entryHash(head.hash, stored)
        statements.insert.run(stored.seq, stored.id, stored.at.getTime(), stored.type, stored.actorType, stored.actorId, stored.subjectId,
          stored.ip, stored.userAgent, stored.requestId, stored.data, head.hash, hash)
        for (const webhook of subscriptions) {
          if (!webhook.events.includes(event.type)) continue
          statements.queue.run(randomUUID(), webhook.id, stored.seq, event.id, event.type, webhookPayload(event), event.subjectId ?? '',
            event.at.getTime(), event.at.getTime())
        }
        head = { seq: stored.seq, hash }
      }
      statements.moveHead.run(head.seq, head.hash)
    }
  }
}

export function sqliteAuditRepository (db: SqliteDb): AuditRepository {
  const record = auditRecorder(db)
  return {
    async append (events) {
      db.transaction(() => record.append(events), { behavior: 'immediate' })
    },

    async list ({ type, subjectId, since, until, afterSeq, limit }) {
      const rows = db.select().from(auditEvents).where(and(
        type === undefined ? undefined : eq(auditEvents.type, type),
        subjectId === undefined ? undefined : eq(auditEvents.subjectId, subjectId),
        since === undefined ? undefined : gte(auditEvents.at, since),
        until === undefined ? undefined : lt(auditEvents.at, until),
        afterSeq === undefined ? undefined : gt(auditEvents.seq, afterSeq)
      )).orderBy(asc(auditEvents.seq)).limit(limit).all()
      return rows.map(toAuditEvent)
    },

    async head () {
      const row = db.$client.prepare<[], { seq: number, hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1').get()
      return row ?? { seq: 0, hash: GENESIS_HASH }
    },

    async checkpoints () {
      const rows = db.select().from(auditCheckpoints).orderBy(asc(auditCheckpoints.seq), asc(auditCheckpoints.at)).all()
      return rows.map(row => ({ ...row, kind: row.kind as AuditCheckpoint['kind'] }))
    },

    async addCheckpoint (checkpoint) {
      db.insert(auditCheckpoints).values(checkpoint).run()
    },

    async pruneBoundary (before, limit) {
      const rows = db.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents)
        .where(lt(auditEvents.at, before)).orderBy(asc(auditEvents.seq)).limit(limit).all()
      return rows.at(-1)
    },

    async pruneThrough (checkpoint) {
      return db.transaction(tx => {
        tx.insert(auditCheckpoints).values(checkpoint).run()
        // Checkpoints of entries that are gone vouch for nothing left: verification starts here.
        tx.delete(auditCheckpoints).where(lt(auditCheckpoints.seq, checkpoint.seq)).run()
        return tx.delete(auditEvents).where(lte(auditEvents.seq, checkpoint.seq)).run().changes
      }, { behavior: 'immediate' })
    }
  }
}
