// Abuse limits: @fastify/rate-limit for per-address request limits on sensitive routes, and an
// attempt store for the limits keyed by account or by target email address. Every counter lives in
// one store: Redis when REDIS_URL is set, else the database when several instances can share it
// (PostgreSQL), else this process's memory (SQLite: one instance).
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import type { RateLimit } from '../src/config.js'
import { createMemoryAttemptStore, type AttemptStore } from '../src/limits/attempt-counter.js'
import { createFallbackAttemptStore } from '../src/limits/fallback-attempt-store.js'
import { createRedisAttemptStore } from '../src/limits/redis-attempt-store.js'
import { createRepositoryAttemptStore } from '../src/limits/repository-attempt-store.js'
import { rateLimitStore } from '../src/limits/rate-limit-store.js'
import { errors } from '../src/errors.js'
import { createLoginThrottle, type LoginThrottle } from '../src/limits/login-throttle.js'
import { clientKey } from '../src/limits/client-key.js'

declare module 'fastify' {
  interface FastifyInstance {
    attemptStore: AttemptStore
    loginThrottle: LoginThrottle
    /** Wrong second-factor codes per account (RATE_LIMIT_MFA_ACCOUNT), in the login throttle's store. */
    mfaThrottle: LoginThrottle
    /** Route config for a per-client-address limit: `config: { rateLimit: fastify.perIpLimit(limit) }`. */
    perIpLimit (limit: RateLimit): { max: number, timeWindow: number } | false
    /** Counts one request for `target` (e.g. an email address); throws 429 once `limit` is passed. */
    limitPerTarget (bucket: string, target: string, limit: RateLimit): Promise<void>
  }
}

export interface RateLimitPluginOptions {
  /** Another store, used for every limit; by default the one the configuration calls for. */
  attemptStore?: AttemptStore
}

/** The configured store, and whether other instances share it. */
function configuredStore (fastify: FastifyInstance): { store: AttemptStore, shared: boolean } {
  const { attempts } = fastify.repositories
  const database = attempts && createRepositoryAttemptStore(attempts, {
    onSweepError: err => fastify.log.error({ err }, 'deleting ended attempt counters failed')
  })
  if (fastify.redis === null) return { store: database ?? createMemoryAttemptStore(), shared: database !== undefined }
  // While Redis is down the limits keep counting, where the instances still share something if they can.
  const where = database === undefined ? 'this process\'s memory' : 'the database'
  const store = createFallbackAttemptStore(createRedisAttemptStore(fastify.redis), database ?? createMemoryAttemptStore(), {
    onFallback: err => fastify.log.warn({ err }, `Redis does not answer: the limits count in ${where} until it does`),
    onRecovery: () => fastify.log.warn('Redis answers again: the limits count there again')
  })
  return { store, shared: true }
}

export default fp(async function rateLimits (fastify, options: RateLimitPluginOptions) {
  const { config } = fastify
  const { store, shared } = options.attemptStore === undefined
    ? configuredStore(fastify)
    : { store: options.attemptStore, shared: true }

  await fastify.register(rateLimit, {
    global: false,
    // X-Forwarded-For counts only through Fastify's trustProxy (TRUST_PROXY): request.ip is the client,
    // counted by its key (IPv4-mapped addresses as IPv4, IPv6 by network) like the login throttle.
    keyGenerator: request => clientKey(request.ip, config.rateLimitIpv6Prefix),
    // A shared store counts the per-address limits beside the login throttle. Not the plugin's own
    // RedisStore: on a Redis error it either fails every limited request (skipOnError false) or lets
    // them all through uncounted (true), where this store falls back and keeps counting. Alone,
    // the plugin's in-memory store (bounded per route) is the right one.
    ...(shared && { store: rateLimitStore(store) }),
    // An error that escapes the store is a 500, never a request let through uncounted.
    skipOnError: false,
    errorResponseBuilder: (_request, context) => errors.rateLimited(Math.max(1, Math.ceil(context.ttl / 1000)))
  })

  fastify.decorate('attemptStore', store)
  fastify.decorate('loginThrottle', createLoginThrottle(store, {
    perAccount: config.rateLimits.loginFailuresPerAccount,
    perIp: config.rateLimits.loginFailuresPerIp,
    ipv6Prefix: config.rateLimitIpv6Prefix
  }))
  fastify.decorate('mfaThrottle', createLoginThrottle(store, {
    perAccount: config.rateLimits.mfaFailuresPerAccount,
    perIp: { max: 0, windowSeconds: 1 }
  }, 'mfa-failures'))
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
}, { name: 'rate-limit', dependencies: ['config', 'db', 'redis'] })
