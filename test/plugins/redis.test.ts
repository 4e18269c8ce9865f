import t from 'tap'
import { Redis } from 'ioredis'
import { ConfigError, loadConfig } from '../../src/config.js'
import { REDIS_CLIENT_OPTIONS, redisAddress } from '../../plugins/redis.js'
import { build } from '../helper.js'
import { waitUntil } from '../wait-until.js'
import { loggedApp, WARN } from '../limits/logged-app.js'
import type { FastifyInstance } from 'fastify'
import { deadRedisUrl, NEEDS_REDIS, NEEDS_REDIS_SERVER, ownRedis, TEST_REDIS_URL, uniqueKeyPrefix } from '../limits/redis-server.js'

// Configuration

t.test('REDIS_URL is unset by default, and keys are prefixed portcullis:', async t => {
  const config = loadConfig({})
  t.notOk('redisUrl' in config)
  t.equal(config.redisKeyPrefix, 'portcullis:')
})

t.test('REDIS_URL takes redis:// and rediss:// (TLS), with credentials and a database number', async t => {
  for (const url of ['redis://127.0.0.1:6379', 'rediss://user:secret@redis.example.com:6380', 'redis://:secret@[::1]:6379/2', 'redis://redis.internal']) {
    t.equal(loadConfig({ REDIS_URL: url }).redisUrl, url)
  }
  t.equal(loadConfig({ REDIS_URL: ' redis://h:6379 ', REDIS_KEY_PREFIX: 'staging:' }).redisKeyPrefix, 'staging:')
})

t.test('a bad REDIS_URL is a ConfigError naming REDIS_URL that never repeats the value', async t => {
  const bad = [
    'not a url with hunter2',
    'http://user:hunter2@redis.example.com:6379',
    'postgres://user:hunter2@db:5432/x',
    'redis://user:hunter2@/0',
    'redis://user:hunter2@redis.example.com:6379/not-a-number',
    'redis://user:hunter2@redis.example.com:6379/0/1'
  ]
  for (const value of bad) {
    const err = t.throws(() => loadConfig({ REDIS_URL: value }), ConfigError, value) as ConfigError
    t.equal(err.variable, 'REDIS_URL')
    t.match(err.message, /^Invalid configuration: REDIS_URL /)
    t.notMatch(err.message, /hunter2/, 'the password stays out of the message')
  }
})

/**
 * Whether the client is done: ended, or (ioredis leaves the status at `reconnecting` when closed
 * between two attempts) with no reconnection scheduled. A scheduled one would also keep the test
 * process alive.
 */
function stopped (client: NonNullable<FastifyInstance['redis']>): boolean {
  return client.status === 'end' || (client as unknown as { reconnectTimeout: unknown }).reconnectTimeout === null
}

// The client

t.test('the client fails fast while Redis is down and reconnects by itself', async t => {
  t.same({ ...REDIS_CLIENT_OPTIONS, retryStrategy: undefined }, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    commandTimeout: 1000,
    retryStrategy: undefined
  })
  t.equal(REDIS_CLIENT_OPTIONS.retryStrategy(1), 100)
  t.equal(REDIS_CLIENT_OPTIONS.retryStrategy(5), 500)
  t.equal(REDIS_CLIENT_OPTIONS.retryStrategy(1000), 1000, 'never gives up, never waits more than a second')
})

t.test('the logged address of Redis never carries its credentials', async t => {
  t.equal(redisAddress('redis://user:hunter2@redis.example.com:6380/2'), 'redis://redis.example.com:6380/2')
  t.equal(redisAddress('rediss://:hunter2@[::1]:6379'), 'rediss://[::1]:6379')
  t.equal(redisAddress('redis://127.0.0.1'), 'redis://127.0.0.1')
})

t.test('without REDIS_URL there is no client', async t => {
  const app = await build(t)
  t.equal(app.redis, null)
})

t.test('with REDIS_URL the app connects at start, prefixes its keys, and closes the client with itself', NEEDS_REDIS, async t => {
  const prefix = uniqueKeyPrefix()
  const app = await build(t, { redisUrl: TEST_REDIS_URL, redisKeyPrefix: prefix })
  const client = app.redis!
  t.equal(client.status, 'ready', 'connected before the app is ready')
  await client.set('probe', '1', 'PX', 60_000)
  const raw = new Redis(TEST_REDIS_URL!)
  t.teardown(() => raw.quit())
  t.equal(await raw.get(`${prefix}probe`), '1', 'under REDIS_KEY_PREFIX')
  await app.close()
  t.equal(client.status, 'end')
})

t.test('a Redis that is down at start does not stop the app; the warning names it without its password', async t => {
  const url = await deadRedisUrl()
  const { app, lines, raw } = await loggedApp(t, { redisUrl: url })
  t.not(app.redis!.status, 'ready')
  const warning = lines.find(line => line.level === WARN && /Redis does not answer at start/.test(line.msg))
  t.ok(warning, 'a warning at start')
  t.equal(warning?.redis, redisAddress(url))
  t.notMatch(raw(), /dead-redis-password/, 'the password is in no log line')
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200, 'the app answers')
  const client = app.redis!
  await app.close()
  t.ok(stopped(client), 'closing stops the reconnecting')
})

t.test('a Redis that comes up after the start is used without a restart', NEEDS_REDIS_SERVER, async t => {
  const redis = await ownRedis(t)
  await redis.stop()
  const app = await build(t, { redisUrl: redis.url, redisKeyPrefix: uniqueKeyPrefix() })
  t.not(app.redis!.status, 'ready')
  await redis.start()
  await waitUntil(() => app.redis!.status === 'ready', 15_000, 'the client to reconnect', t)
  t.equal(await app.redis!.ping(), 'PONG')
})

t.test('closing the app while Redis answers quits cleanly; closing while it is gone does not hang', NEEDS_REDIS_SERVER, async t => {
  const redis = await ownRedis(t)
  const up = await build(t, { redisUrl: redis.url, redisKeyPrefix: uniqueKeyPrefix() })
  const quitting = t.capture(up.redis!, 'quit', up.redis!.quit)
  await up.close()
  t.equal(quitting().length, 1, 'QUIT when connected')

  const down = await build(t, { redisUrl: redis.url, redisKeyPrefix: uniqueKeyPrefix() })
  const client = down.redis!
  await redis.stop()
  await waitUntil(() => client.status !== 'ready', 15_000, 'the client to see the outage', t)
  await down.close()
  t.ok(stopped(client), 'closing stops the reconnecting')
})
