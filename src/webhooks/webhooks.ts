// Webhook subscriptions and their deliveries: the rules behind the admin API and the CLI.
import { randomBytes, randomUUID } from 'node:crypto'
import type { DeliveryRecord, DeliveryStatus, WebhookRecord } from '../../db/repositories.js'
import type { AuthDeps } from '../deps.js'
import { errors } from '../errors.js'
import { decodePageCursor, encodePageCursor } from '../http/page-cursor.js'
import { sealWebhookSecret } from './secrets.js'
import { checkWebhookUrl } from './target.js'

export interface WebhookView {
  id: string
  url: string
  events: string[]
  description: string | null
  created_at: string
}

export function webhookView (webhook: WebhookRecord): WebhookView {
  return { id: webhook.id, url: webhook.url, events: webhook.events, description: webhook.description, created_at: webhook.createdAt.toISOString() }
}

export interface DeliveryView {
  id: string
  event_id: string
  type: string
  status: DeliveryStatus
  attempts: number
  last_error: string | null
  next_attempt_at: string | null
}

export function deliveryView (delivery: DeliveryRecord): DeliveryView {
  return {
    id: delivery.id,
    event_id: delivery.eventId,
    type: delivery.type,
    status: delivery.status,
    attempts: delivery.attempts,
    last_error: delivery.lastError,
    next_attempt_at: delivery.status === 'pending' ? delivery.nextAttemptAt.toISOString() : null
  }
}

type Deps = Pick<AuthDeps, 'repositories' | 'config' | 'now'>

/** Subscribes; the secret (Standard Webhooks `whsec_` + 32 random bytes, base64) is in this answer only. */
export async function createWebhook (deps: Deps, input: { url: string, events: string[], description?: string }): Promise<WebhookView & { secret: string }> {
  const url = checkWebhookUrl(input.url, deps.config.webhookAllowPrivate)
  const secret = `whsec_${randomBytes(32).toString('base64')}`
  const id = randomUUID()
  const webhook = await deps.repositories.webhooks.create({
    id,
    url,
    events: [...new Set(input.events)].sort(),
    description: input.description ?? null,
    createdAt: deps.now(),
    secret: sealWebhookSecret(deps.config.keyEncryptionKey, id, secret)
  })
  return { ...webhookView(webhook), secret }
}

export async function listWebhooks (deps: Deps): Promise<WebhookView[]> {
  return (await deps.repositories.webhooks.list()).map(webhookView)
}

export async function getWebhook (deps: Deps, id: string): Promise<WebhookView> {
  const webhook = await deps.repositories.webhooks.find(id)
  if (webhook === undefined) throw errors.notFound('No such webhook.')
  return webhookView(webhook)
}

export async function updateWebhook (deps: Deps, id: string, patch: { url?: string, events?: string[], description?: string | null }): Promise<WebhookView> {
  const updated = await deps.repositories.webhooks.update(id, {
    ...(patch.url !== undefined && { url: checkWebhookUrl(patch.url, deps.config.webhookAllowPrivate) }),
    ...(patch.events !== undefined && { events: [...new Set(patch.events)].sort() }),
    ...(patch.description !== undefined && { description: patch.description })
  })
  if (updated === undefined) throw errors.notFound('No such webhook.')
  return webhookView(updated)
}

/** Unsubscribes; its pending deliveries go with it. */
export async function deleteWebhook (deps: Deps, id: string): Promise<void> {
  if (!await deps.repositories.webhooks.delete(id)) throw errors.notFound('No such webhook.')
}

function encodeCursor (delivery: DeliveryRecord): string {
  return encodePageCursor('delivery', delivery.eventSeq, delivery.id)
}

function decodeCursor (cursor: string): { eventSeq: number, id: string } {
  const { position, id } = decodePageCursor('delivery', cursor, true)
  return { eventSeq: position, id }
}

/** The webhook's deliveries, newest event first. */
export async function listDeliveries (deps: Deps, id: string, query: { status?: DeliveryStatus, cursor?: string, limit: number }): Promise<{ items: DeliveryView[], next_cursor: string | null }> {
  await getWebhook(deps, id)
  const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor)
  const rows = await deps.repositories.webhooks.deliveries(id, { ...(query.status !== undefined && { status: query.status }), ...(before !== undefined && { before }), limit: query.limit + 1 })
  const page = rows.slice(0, query.limit)
  return { items: page.map(deliveryView), next_cursor: rows.length > query.limit ? encodeCursor(page[page.length - 1]) : null }
}

/** Sends a delivery again as soon as a dispatcher is free (a dead one too: the replay of a dead letter). */
export async function retryDelivery (deps: Deps, id: string, deliveryId: string): Promise<void> {
  if (!await deps.repositories.webhooks.retry(id, deliveryId, deps.now())) throw errors.notFound('No such delivery of this webhook.')
}
