// Abuse limits: @fastify/rate-limit for per-address request limits on sensitive routes, and an
// attempt store for the limits keyed by account or by target email address.
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { RateLimit } from '../src/config.js'
import { createMemoryAttemptStore, type AttemptStore } from '../src/limits/attempt-counter.js'
import { errors } from '../src/errors.js'
import { createLoginThrottle, type LoginThrottle } from '../src/limits/login-throttle.js'

declare module 'fastify' {
  interface FastifyInstance {
    attemptStore: AttemptStore
    loginThrottle: LoginThrottle
    /** Route config for a per-client-address limit: `config: { rateLimit: fastify.perIpLimit(limit) }`. */
    perIpLimit (limit: RateLimit): { max: number, timeWindow: number } | false
    /** Counts one request for `target` (e.g. an email address); throws 429 once `limit` is passed. */
    limitPerTarget (bucket: string, target: string, limit: RateLimit): Promise<void>
  }
}

export interface RateLimitPluginOptions {
  /** Another store (shared between instances); the in-memory one by default. */
  attemptStore?: AttemptStore
}

export default fp(async function rateLimits (fastify, options: RateLimitPluginOptions) {
  const { config } = fastify
  const store = options.attemptStore ?? createMemoryAttemptStore()

  await fastify.register(rateLimit, {
    global: false,
    // X-Forwarded-For counts only through Fastify's trustProxy (TRUST_PROXY): request.ip is the client.
    keyGenerator: request => request.ip,
    errorResponseBuilder: (_request, context) => errors.rateLimited(Math.max(1, Math.ceil(context.ttl / 1000)))
  })

  fastify.decorate('attemptStore', store)
  fastify.decorate('loginThrottle', createLoginThrottle(store, {
    perAccount: config.rateLimits.loginFailuresPerAccount,
    perIp: config.rateLimits.loginFailuresPerIp
  }))
  fastify.decorate('perIpLimit', (limit: RateLimit) => limit.max > 0 && { max: limit.max, timeWindow: limit.windowSeconds * 1000 })
  fastify.decorate('limitPerTarget', async (bucket: string, target: string, limit: RateLimit) => {
    if (limit.max === 0) return
    const now = Date.now()
    const current = await store.increment(`${bucket}:${target}`, limit.windowSeconds * 1000, now)
    if (current.count > limit.max) throw errors.rateLimited(Math.max(1, Math.ceil((current.resetAt - now) / 1000)))
  })
  fastify.addHook('onClose', async () => {
    await store.close()
  })
}, { name: 'rate-limit', dependencies: ['config'] })
