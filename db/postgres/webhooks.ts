// Webhook subscriptions and their outbox (deliveries) on PostgreSQL. A claim locks its rows FOR
// UPDATE SKIP LOCKED and leases them in one statement: dispatchers on several instances never claim
// the same row, and none waits for another.
import { and, desc, eq, lt, or, sql } from 'drizzle-orm'
import type { ClaimedDelivery, WebhookRepository } from '../repositories.js'
import { toDelivery, toWebhook } from '../records.js'
import { hasNul, type PgDb } from './database.js'
import { webhookDeliveries, webhooks } from './schema.js'

interface ClaimedRow {
  id: string
  webhook_id: string
  event_seq: string
  event_id: string
  type: string
  payload: string
  status: string
  attempts: number
  last_error: string | null
  next_attempt_at: Date
  url: string
  secret: string
}

export function postgresWebhookRepository (db: PgDb): WebhookRepository {
  return {
    async create (webhook) {
      const [row] = await db.insert(webhooks).values({ ...webhook, events: JSON.stringify(webhook.events) }).returning()
      return toWebhook(row)
    },

    async list () {
      return (await db.select().from(webhooks).orderBy(webhooks.createdAt, webhooks.id)).map(toWebhook)
    },

    async find (id) {
      if (hasNul(id)) return undefined
      const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id))
      return row && toWebhook(row)
    },

    async update (id, patch) {
      if (hasNul(id)) return undefined
      const { events, ...rest } = patch
      const values = { ...rest, ...(events !== undefined && { events: JSON.stringify(events) }) }
      if (Object.keys(values).length === 0) return this.find(id)
      const [row] = await db.update(webhooks).set(values).where(eq(webhooks.id, id)).returning()
      return row && toWebhook(row)
    },

    async delete (id) {
      if (hasNul(id)) return false
      return ((await db.delete(webhooks).where(eq(webhooks.id, id))).rowCount ?? 0) > 0
    },

    async deliveries (webhookId, { status, before, limit }) {
      if (hasNul(webhookId)) return []
      const rows = await db.select().from(webhookDeliveries).where(and(
        eq(webhookDeliveries.webhookId, webhookId),
        status === undefined ? undefined : eq(webhookDeliveries.status, status),
        before === undefined ? undefined : or(lt(webhookDeliveries.eventSeq, before.eventSeq), and(eq(webhookDeliveries.eventSeq, before.eventSeq), lt(webhookDeliveries.id, before.id)))
      )).orderBy(desc(webhookDeliveries.eventSeq), desc(webhookDeliveries.id)).limit(limit)
      return rows.map(toDelivery)
    },

    async claimDue (now, leaseUntil, limit) {
      // The ordering check reads committed rows: a delivery still first in line when claimed stays
      // so, since a later event of the same user can only add rows after it.
      const { rows } = await db.$client.query<ClaimedRow>(`
        WITH due AS (
          SELECT d.id FROM webhook_deliveries d
           WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1)
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                              WHERE e.webhook_id = d.webhook_id AND e.ordering_key = d.ordering_key
                                AND e.status = 'pending' AND e.event_seq < d.event_seq)
           ORDER BY d.event_seq LIMIT $3
             FOR UPDATE SKIP LOCKED)
        UPDATE webhook_deliveries d SET lease_until = $2 FROM due, webhooks w
         WHERE d.id = due.id AND w.id = d.webhook_id
        RETURNING d.id, d.webhook_id, d.event_seq, d.event_id, d.type, d.payload, d.status, d.attempts, d.last_error, d.next_attempt_at, w.url, w.secret`,
      [now, leaseUntil, limit])
      return rows.map((row): ClaimedDelivery => ({
        id: row.id,
        webhookId: row.webhook_id,
        eventSeq: Number(row.event_seq),
        eventId: row.event_id,
        type: row.type,
        status: 'pending',
        attempts: row.attempts,
        lastError: row.last_error,
        nextAttemptAt: row.next_attempt_at,
        payload: row.payload,
        url: row.url,
        secret: row.secret,
        leaseUntil
      })).sort((a, b) => a.eventSeq - b.eventSeq)
    },

    async finish (id, leaseUntil, outcome) {
      const values = outcome.delivered
        ? { status: 'delivered', leaseUntil: null, lastError: null }
        : { status: outcome.nextAttemptAt === null ? 'dead' : 'pending', leaseUntil: null, lastError: outcome.error, ...(outcome.nextAttemptAt !== null && { nextAttemptAt: outcome.nextAttemptAt }) }
      // Only the holder of the lease writes the outcome.
      await db.update(webhookDeliveries).set({ ...values, attempts: sql`${webhookDeliveries.attempts} + 1` })
        .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.leaseUntil, leaseUntil)))
    },

    async retry (webhookId, deliveryId, now) {
      if (hasNul(webhookId, deliveryId)) return false
      // A delivery in flight keeps its lease: cleared, another dispatcher would send it a second time
      // at once, and the attempt under way could no longer record its outcome.
      const result = await db.update(webhookDeliveries).set({ status: 'pending', nextAttemptAt: now, leaseUntil: sql`CASE WHEN ${webhookDeliveries.leaseUntil} > ${now} THEN ${webhookDeliveries.leaseUntil} END` })
        .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.webhookId, webhookId)))
      return (result.rowCount ?? 0) > 0
    },

    async pruneDeliveries (before, limit) {
      const deleted = await db.execute(sql`DELETE FROM webhook_deliveries WHERE id IN (
                                             SELECT id FROM webhook_deliveries WHERE status IN ('delivered', 'dead') AND created_at < ${before}
                                              LIMIT ${limit} FOR UPDATE SKIP LOCKED)`)
      return deleted.rowCount ?? 0
    }
  }
}
