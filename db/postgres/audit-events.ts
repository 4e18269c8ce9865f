// The audit log on PostgreSQL: the writer every repository appends its events through (inside its
// own transaction, with the outbox rows of the webhooks subscribed to them), and the log's reader and pruner.
import { randomUUID } from 'node:crypto'
import { and, asc, eq, gt, gte, lt, lte, sql } from 'drizzle-orm'
import type { AuditCheckpoint, AuditRepository, NewAuditEvent } from '../repositories.js'
import { GENESIS_HASH, entryHash, toAuditEvent, webhookPayload } from '../audit-chain.js'
import { inTransaction, type PgDb, type PgTx } from './database.js'
import { auditCheckpoints, auditEvents, auditHead, webhookDeliveries, webhooks } from './schema.js'

/**
 * Appends the events to the chain and queues their webhook deliveries, in `tx`. Call it as the LAST
 * statement of the transaction (after any revocation event, whose lock comes first): the head row is
 * locked FOR UPDATE until commit, so appends from every instance serialise on it and each sees the
 * head the one before it committed; the chain cannot fork, and seq order is commit order.
 */
export async function appendAuditEvents (tx: PgTx, events: NewAuditEvent[]): Promise<void> {
  if (events.length === 0) return
  await tx.execute(sql`INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, ${GENESIS_HASH}) ON CONFLICT (id) DO NOTHING`)
  const [locked] = await tx.select({ seq: auditHead.seq, hash: auditHead.hash }).from(auditHead).where(eq(auditHead.id, 1)).for('update')
  let head = locked ?? { seq: 0, hash: GENESIS_HASH }
  const subscriptions = (await tx.select({ id: webhooks.id, events: webhooks.events }).from(webhooks))
    .map(row => ({ id: row.id, events: JSON.parse(row.events) as string[] }))
  for (const event of events) {
    const stored = { ...event, seq: head.seq + 1, data: JSON.stringify(event.data) }
    const hash = entryHash(head.hash, stored)
    await tx.insert(auditEvents).values({ ...stored, prevHash: head.hash, hash })
    const queued = subscriptions.filter(webhook => webhook.events.includes(event.type)).map(webhook => ({
      id: randomUUID(),
      webhookId: webhook.id,
      eventSeq: stored.seq,
      eventId: event.id,
      type: event.type,
      payload: webhookPayload(event),
      orderingKey: event.subjectId ?? '',
      status: 'pending',
      attempts: 0,
      nextAttemptAt: event.at,
      createdAt: event.at
    }))
    if (queued.length > 0) await tx.insert(webhookDeliveries).values(queued)
    head = { seq: stored.seq, hash }
  }
  await tx.update(auditHead).set(head).where(eq(auditHead.id, 1))
}

export function postgresAuditRepository (db: PgDb): AuditRepository {
  return {
    async append (events) {
      await inTransaction(db, tx => appendAuditEvents(tx, events))
    },

    async list ({ type, subjectId, since, until, afterSeq, limit }) {
      const rows = await db.select().from(auditEvents).where(and(
        type === undefined ? undefined : eq(auditEvents.type, type),
        subjectId === undefined ? undefined : eq(auditEvents.subjectId, subjectId),
        since === undefined ? undefined : gte(auditEvents.at, since),
        until === undefined ? undefined : lt(auditEvents.at, until),
        afterSeq === undefined ? undefined : gt(auditEvents.seq, afterSeq)
      )).orderBy(asc(auditEvents.seq)).limit(limit)
      return rows.map(toAuditEvent)
    },

    async head () {
      const [row] = await db.select({ seq: auditHead.seq, hash: auditHead.hash }).from(auditHead).where(eq(auditHead.id, 1))
      return row ?? { seq: 0, hash: GENESIS_HASH }
    },

    async checkpoints () {
      const rows = await db.select().from(auditCheckpoints).orderBy(asc(auditCheckpoints.seq), asc(auditCheckpoints.at))
      return rows.map(row => ({ ...row, kind: row.kind as AuditCheckpoint['kind'] }))
    },

    async addCheckpoint (checkpoint) {
      await db.insert(auditCheckpoints).values(checkpoint)
    },

    async pruneBoundary (before, limit) {
      const rows = await db.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents)
        .where(lt(auditEvents.at, before)).orderBy(asc(auditEvents.seq)).limit(limit)
      return rows.at(-1)
    },

    async pruneThrough (checkpoint) {
      return inTransaction(db, async tx => {
        await tx.insert(auditCheckpoints).values(checkpoint)
        // Checkpoints of entries that are gone vouch for nothing left: verification starts here.
        await tx.delete(auditCheckpoints).where(lt(auditCheckpoints.seq, checkpoint.seq))
        return (await tx.delete(auditEvents).where(lte(auditEvents.seq, checkpoint.seq))).rowCount ?? 0
      })
    }
  }
}
