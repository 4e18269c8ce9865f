// Webhook subscriptions and their outbox (deliveries) on SQLite. A claim runs in one immediate
// transaction: SQLite's single writer means two dispatchers can never lease the same row.
import { and, desc, eq, lt, or, sql } from 'drizzle-orm'
import type { ClaimedDelivery, WebhookRepository } from '../repositories.js'
import { toDelivery, toWebhook } from '../records.js'
import type { SqliteDb } from './connection.js'
import { webhookDeliveries, webhooks } from './schema.js'

/**
 * Due, unleased, and first in line: no pending delivery of the same webhook and ordering key comes
 * before it (a dead one does not hold the line: it waits for an operator's retry).
 */
export const DUE_SQL = `
  SELECT d.id FROM webhook_deliveries d
   WHERE d.status = 'pending' AND d.next_attempt_at <= $now AND (d.lease_until IS NULL OR d.lease_until <= $now)
     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                      WHERE e.webhook_id = d.webhook_id AND e.ordering_key = d.ordering_key
                        AND e.status = 'pending' AND e.event_seq < d.event_seq)
   ORDER BY d.event_seq LIMIT $limit`

export function sqliteWebhookRepository (db: SqliteDb): WebhookRepository {
  const client = db.$client
  const due = client.prepare<{ now: number, limit: number }, { id: string }>(DUE_SQL.replaceAll('$now', '@now').replaceAll('$limit', '@limit'))
  const lease = client.prepare('UPDATE webhook_deliveries SET lease_until = ? WHERE id = ?')
  const pruneDone = client.prepare(`DELETE FROM webhook_deliveries WHERE id IN (
    SELECT id FROM webhook_deliveries WHERE status IN ('delivered', 'dead') AND created_at < ? LIMIT ?)`)
  const claimed = client.prepare<[string], typeof webhookDeliveries.$inferSelect & { url: string, secret: string }>(`
    SELECT d.id, d.webhook_id AS webhookId, d.event_seq AS eventSeq, d.event_id AS eventId, d.type, d.payload, d.ordering_key AS orderingKey,
           d.status, d.attempts, d.last_error AS lastError, d.next_attempt_at AS nextAttemptAt, w.url, w.secret
      FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?`)
  const claim = client.transaction((now: Date, leaseUntil: Date, limit: number): ClaimedDelivery[] => {
    const ids = due.all({ now: now.getTime(), limit })
    return ids.map(({ id }) => {
      lease.run(leaseUntil.getTime(), id)
      const row = claimed.get(id)!
      return { ...toDelivery({ ...row, nextAttemptAt: new Date(row.nextAttemptAt as unknown as number) }), payload: row.payload, url: row.url, secret: row.secret, leaseUntil }
    })
  })

  return {
    async create (webhook) {
      const row = db.insert(webhooks).values({ ...webhook, events: JSON.stringify(webhook.events) }).returning().get()
      return toWebhook(row)
    },

    async list () {
      return db.select().from(webhooks).orderBy(webhooks.createdAt, webhooks.id).all().map(toWebhook)
    },

    async find (id) {
      const row = db.select().from(webhooks).where(eq(webhooks.id, id)).get()
      return row && toWebhook(row)
    },

    async update (id, patch) {
      const { events, ...rest } = patch
      const values = { ...rest, ...(events !== undefined && { events: JSON.stringify(events) }) }
      if (Object.keys(values).length === 0) return this.find(id)
      const row = db.update(webhooks).set(values).where(eq(webhooks.id, id)).returning().get()
      return row && toWebhook(row)
    },

    async delete (id) {
      return db.delete(webhooks).where(eq(webhooks.id, id)).run().changes > 0
    },

    async deliveries (webhookId, { status, before, limit }) {
      const rows = db.select().from(webhookDeliveries).where(and(
        eq(webhookDeliveries.webhookId, webhookId),
        status === undefined ? undefined : eq(webhookDeliveries.status, status),
        before === undefined ? undefined : or(lt(webhookDeliveries.eventSeq, before.eventSeq), and(eq(webhookDeliveries.eventSeq, before.eventSeq), lt(webhookDeliveries.id, before.id)))
      )).orderBy(desc(webhookDeliveries.eventSeq), desc(webhookDeliveries.id)).limit(limit).all()
      return rows.map(toDelivery)
    },

    async claimDue (now, leaseUntil, limit) {
      // Polled several times a second by every instance: the write lock is taken only when a plain
      // read finds something due (the claim then looks again under the lock).
      if (due.all({ now: now.getTime(), limit: 1 }).length === 0) return []
      return claim.immediate(now, leaseUntil, limit)
    },

    async finish (id, leaseUntil, outcome) {
      const values = outcome.delivered
        ? { status: 'delivered', leaseUntil: null, lastError: null }
        : { status: outcome.nextAttemptAt === null ? 'dead' : 'pending', leaseUntil: null, lastError: outcome.error, ...(outcome.nextAttemptAt !== null && { nextAttemptAt: outcome.nextAttemptAt }) }
      // Only the holder of the lease writes the outcome: a dispatcher whose lease lapsed (and whose
      // row another one claimed since) must not overwrite the newer attempt.
      db.update(webhookDeliveries).set({ ...values, attempts: sql`${webhookDeliveries.attempts} + 1` })
        .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.leaseUntil, leaseUntil))).run()
    },

    async retry (webhookId, deliveryId, now) {
      // A delivery in flight keeps its lease: cleared, another dispatcher would send it a second time
      // at once, and the attempt under way could no longer record its outcome.
      return db.update(webhookDeliveries).set({ status: 'pending', nextAttemptAt: now, leaseUntil: sql`CASE WHEN ${webhookDeliveries.leaseUntil} > ${now.getTime()} THEN ${webhookDeliveries.leaseUntil} END` })
        .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.webhookId, webhookId))).run().changes > 0
    },

    async pruneDeliveries (before, limit) {
      return pruneDone.run(before.getTime(), limit).changes
    }
  }
}
