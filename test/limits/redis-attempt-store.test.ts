import t from 'tap'
import { Redis } from 'ioredis'
import { createRedisAttemptStore } from '../../src/limits/redis-attempt-store.js'
import { waitUntil } from '../wait-until.js'
import { NEEDS_REDIS, TEST_REDIS_URL, uniqueKeyPrefix } from './redis-server.js'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const MINUTE = 60_000
const T0 = Date.parse('2030-01-01T00:00:00.000Z')

/** A client on the shared Redis under a prefix of its own, closed when the test ends. */
function client (t: Test, keyPrefix = uniqueKeyPrefix()): Redis {
  const redis = new Redis(TEST_REDIS_URL!, { keyPrefix })
  t.teardown(() => redis.quit())
  return redis
}

/** Every key under `prefix`, read by a client without one. */
async function keysUnder (t: Test, prefix: string): Promise<string[]> {
  const raw = client(t, '')
  return raw.keys(`${prefix}*`)
}

t.test('the Redis store counts in a fixed window that later attempts do not push back', NEEDS_REDIS, async t => {
  const store = createRedisAttemptStore(client(t))
  const first = await store.increment('k', MINUTE, T0)
  t.equal(first.count, 1)
  t.ok(first.resetAt > T0 && first.resetAt <= T0 + MINUTE, 'the window ends within a minute of the caller\'s now')
  const second = await store.increment('k', MINUTE, T0)
  t.equal(second.count, 2)
  t.ok(second.resetAt <= first.resetAt, 'the end did not move back')
  const read = await store.get('k', T0)
  t.equal(read?.count, 2)
  t.ok(read !== undefined && read.resetAt > T0 && read.resetAt <= first.resetAt)
})

t.test('the Redis store\'s window ends by itself and the next attempt opens a new one', NEEDS_REDIS, async t => {
  const store = createRedisAttemptStore(client(t))
  await store.increment('short', 150, Date.now())
  await store.increment('short', 150, Date.now())
  t.equal((await store.get('short', Date.now()))?.count, 2)
  await waitUntil(async () => (await store.get('short', Date.now())) === undefined, 5000, 'the window to end', t)
  const reopened = await store.increment('short', MINUTE, T0)
  t.equal(reopened.count, 1, 'counted from zero')
  t.ok(reopened.resetAt > T0 + 150, 'with the new window\'s length')
})

t.test('the Redis store keeps keys apart, reads nothing for an unknown key, and deletes one key', NEEDS_REDIS, async t => {
  const store = createRedisAttemptStore(client(t))
  await store.increment('a', MINUTE, T0)
  await store.increment('a', MINUTE, T0)
  await store.increment('b', MINUTE, T0)
  t.equal((await store.get('a', T0))?.count, 2)
  t.equal((await store.get('b', T0))?.count, 1)
  t.equal(await store.get('c', T0), undefined)
  await store.delete('a')
  await store.delete('never-there')
  t.equal(await store.get('a', T0), undefined)
  t.equal((await store.get('b', T0))?.count, 1)
  t.equal((await store.increment('a', MINUTE, T0)).count, 1, 'a deleted key starts a fresh window')
})

t.test('the Redis store takes one back within the window, never below 0, and keeps the window\'s end', NEEDS_REDIS, async t => {
  const store = createRedisAttemptStore(client(t))
  const opened = await store.increment('k', MINUTE, T0)
  await store.increment('k', MINUTE, T0)
  await store.decrement('k', T0)
  const read = await store.get('k', T0)
  t.equal(read?.count, 1)
  t.ok(read !== undefined && read.resetAt <= opened.resetAt && read.resetAt > T0, 'the expiry is kept')
  await store.decrement('k', T0)
  await store.decrement('k', T0)
  t.equal((await store.get('k', T0))?.count, 0, 'not below 0')
  await store.decrement('never-there', T0)
  t.equal(await store.get('never-there', T0), undefined, 'no key is made')
  t.equal((await store.increment('k', MINUTE, T0)).count, 1)
})

t.test('two clients incrementing one key at once never lose a count', NEEDS_REDIS, async t => {
  const prefix = uniqueKeyPrefix()
  const one = createRedisAttemptStore(client(t, prefix))
  const two = createRedisAttemptStore(client(t, prefix))
  const counts = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? one : two).increment('shared', MINUTE, T0)))
  t.same(counts.map(c => c.count).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i + 1), 'each attempt got its own count')
})

t.test('keys are digests under the client\'s prefix: no typed login or email address in Redis', NEEDS_REDIS, async t => {
  const prefix = uniqueKeyPrefix()
  const store = createRedisAttemptStore(client(t, prefix))
  await store.increment('login-failures:account:email:ada@example.com', MINUTE, T0)
  await store.increment('password-reset:my password typed in the wrong field', MINUTE, T0)
  const keys = await keysUnder(t, prefix)
  t.equal(keys.length, 2)
  for (const key of keys) {
    t.match(key, new RegExp(`^${prefix}attempts:[A-Za-z0-9_-]{43}$`))
    t.notMatch(key, /ada|example|password/)
  }
})

t.test('a key that lost its expiry gets one at the next attempt instead of counting forever', NEEDS_REDIS, async t => {
  const prefix = uniqueKeyPrefix()
  const redis = client(t, prefix)
  const store = createRedisAttemptStore(redis)
  await store.increment('k', MINUTE, T0)
  const [key] = await keysUnder(t, prefix)
  await client(t, '').persist(key)
  t.equal(await store.get('k', T0), undefined, 'a count without a window is no open window')
  const next = await store.increment('k', MINUTE, T0)
  t.equal(next.count, 2)
  t.ok(next.resetAt > T0 && next.resetAt <= T0 + MINUTE)
  t.ok(await client(t, '').pttl(key) > 0, 'it expires again')
})

t.test('closing the store leaves the client, which belongs to the redis plugin, open', NEEDS_REDIS, async t => {
  const redis = client(t)
  const store = createRedisAttemptStore(redis)
  await store.close()
  t.equal(await redis.ping(), 'PONG')
})

t.test('the store\'s operations fail, rather than wait, when Redis cannot be reached', async t => {
  const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false })
  t.teardown(() => redis.disconnect())
  const store = createRedisAttemptStore(redis)
  await t.rejects(store.increment('k', MINUTE, T0), /enableOfflineQueue/)
  await t.rejects(store.get('k', T0), /enableOfflineQueue/)
  await t.rejects(store.delete('k'), /enableOfflineQueue/)
})
