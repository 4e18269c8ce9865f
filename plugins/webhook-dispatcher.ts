// Sends the outbox: claims due deliveries with a lease, posts them off the request path with at most
// WEBHOOK_CONCURRENCY in flight, and records each outcome (delivered, retried with backoff, or dead).
// A process killed mid-delivery leaves its leases to expire: another (or the restarted) process
// claims the rows again and sends them with the same webhook-id, so no event is lost.
import fp from 'fastify-plugin'
import type { ClaimedDelivery } from '../db/repositories.js'
import { attemptDelivery, nextAttemptAt } from '../src/webhooks/delivery.js'
import { openWebhookSecret } from '../src/webhooks/secrets.js'

/** How often the outbox is polled for due deliveries. */
const POLL_MS = 250

export default fp(async function webhookDispatcher (fastify) {
  const { config } = fastify
  const deps = fastify.auth
  const webhooks = fastify.repositories.webhooks
  // The lease outlives an attempt by a margin: a row is claimed again only when its sender is gone.
  const leaseMs = config.webhookTimeout * 2 + 5000
  let inFlight = 0
  let closing = false
  const running = new Set<Promise<void>>()

  async function deliver (delivery: ClaimedDelivery): Promise<void> {
    const secret = openWebhookSecret(config.keyEncryptionKey, delivery.webhookId, delivery.secret)
    const error = secret === undefined
      ? 'the webhook secret cannot be decrypted: KEY_ENCRYPTION_KEY is not set, or is not the one it was stored under'
      : await attemptDelivery({ ...delivery, secret }, { timeoutMs: config.webhookTimeout, allowPrivate: config.webhookAllowPrivate, now: deps.now() })
    const now = deps.now()
    await webhooks.finish(delivery.id, delivery.leaseUntil, error === undefined
      ? { delivered: true }
      : { delivered: false, error, nextAttemptAt: nextAttemptAt(config.webhookRetryDelays, delivery.attempts + 1, now) })
  }

  async function poll (): Promise<void> {
    const free = config.webhookConcurrency - inFlight
    if (free <= 0 || closing) return
    const now = deps.now()
    const claimed = await webhooks.claimDue(now, new Date(now.getTime() + leaseMs), free)
    // Claimed in event order; the ordering rule lets only the first pending delivery of a user
    // through, so two of one user are never in flight at once.
    for (const delivery of claimed) {
      inFlight++
      const task = deliver(delivery)
        .catch(err => fastify.log.error({ err, deliveryId: delivery.id }, 'webhook delivery failed to record'))
        .finally(() => {
          inFlight--
          running.delete(task)
        })
      running.add(task)
    }
  }

  let polling: Promise<void> | undefined
  const timer = setInterval(() => {
    polling ??= poll()
      .catch(err => fastify.log.error({ err }, 'webhook dispatch failed'))
      .finally(() => { polling = undefined })
  }, POLL_MS)
  timer.unref()

  fastify.addHook('onClose', async () => {
    closing = true
    clearInterval(timer)
    await polling
    // The database closes after this hook: attempts under way finish and record their outcome.
    await Promise.all(running)
  })
}, { name: 'webhook-dispatcher', dependencies: ['auth', 'db'] })
