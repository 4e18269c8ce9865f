// Owns the Redis client when REDIS_URL is set (the shared limits): connects at start without
// waiting on a Redis that is down, reconnects by itself, closes with the app.
import fp from 'fastify-plugin'
import type { Redis, RedisOptions } from 'ioredis'

declare module 'fastify' {
  interface FastifyInstance {
    /** The Redis client; null without REDIS_URL. */
    redis: Redis | null
  }
}

/**
 * A Redis that is down must cost a request a fast fallback, not a wait: commands fail at once while
 * the connection is not ready (no offline queue), in-flight commands are not resent after a
 * reconnect (an INCR could count twice), and a Redis that hangs answers within a second. The client
 * keeps reconnecting on its own, at most a second apart.
 */
export const REDIS_CLIENT_OPTIONS = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 2000,
  commandTimeout: 1000,
  retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000)
} satisfies RedisOptions

/** Where Redis is, for the log: scheme, host, port and database, never the credentials. */
export function redisAddress (url: string): string {
  const parsed = new URL(url)
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`
}

export default fp(async function redis (fastify) {
  const { redisUrl, redisKeyPrefix } = fastify.config
  if (redisUrl === undefined) {
    fastify.decorate('redis', null)
    return
  }
  // Loaded only when configured: ioredis costs ~10 MiB of memory that a server without Redis never uses.
  const { Redis } = await import('ioredis')
  const address = redisAddress(redisUrl)
  const client = new Redis(redisUrl, { ...REDIS_CLIENT_OPTIONS, keyPrefix: redisKeyPrefix })
  // Without a listener every failed reconnect would be an unhandled 'error' event. The outage itself
  // is logged once by the limits that fall back, and by /health/ready.
  client.on('error', err => fastify.log.debug({ err, redis: address }, 'Redis connection error'))
  try {
    await client.connect()
  } catch (err) {
    fastify.log.warn({ err, redis: address }, 'Redis does not answer at start: the limits fall back until it does')
  }
  fastify.decorate('redis', client)
  fastify.addHook('onClose', async () => {
    if (client.status === 'ready') {
      // quit() resolves on Redis's OK, before the socket has closed: the app is closed only once the
      // connection has ended.
      const ended = new Promise<void>(resolve => client.once('end', () => resolve()))
      await client.quit().catch(() => client.disconnect())
      await ended
    } else {
      client.disconnect()
    }
  })
}, { name: 'redis', dependencies: ['config'] })
