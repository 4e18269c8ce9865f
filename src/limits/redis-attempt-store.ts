// Attempt counters in Redis, shared by every instance that uses the same Redis (and key prefix).
import type { Redis } from 'ioredis'
import type { AttemptCount, AttemptStore } from './attempt-counter.js'
import { sharedKey } from './shared-key.js'

// A fixed window in one atomic step: the first attempt (or a key that somehow lost its expiry) sets
// the window's end; later attempts do not push it back. Lua rather than INCR + PEXPIRE NX in a MULTI:
// EXPIRE's NX flag needs Redis 7, and managed services still run 6.
// A key in the last millisecond of its window (PTTL 0: Redis expires a key only once its time has
// passed) is a window that has ended, as READ says: the attempt opens a new one. Counted on, it
// would add to the old count and get no expiry of its own.
const INCREMENT = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl == 0 then
  redis.call('DEL', KEYS[1])
end
local count = redis.call('INCR', KEYS[1])
if ttl <= 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`

// The count and what is left of its window, read together so they belong to the same window.
const READ = `
local count = redis.call('GET', KEYS[1])
if not count then return nil end
return {tonumber(count), redis.call('PTTL', KEYS[1])}
`

// One back, never below 0, and only in an open window: DECR keeps the key's expiry, so the window
// still ends when it would have.
const DECREMENT = `
local count = tonumber(redis.call('GET', KEYS[1]))
if count and count > 0 and redis.call('PTTL', KEYS[1]) > 0 then
  redis.call('DECR', KEYS[1])
end
return 0
`

interface AttemptCommands {
  portcullisAttemptIncrement (key: string, windowMs: number): Promise<[number, number]>
  portcullisAttemptRead (key: string): Promise<[number, number] | null>
  portcullisAttemptDecrement (key: string): Promise<number>
}

/**
 * Redis keeps the window's end (its own clock, through the key's expiry): every instance sees the
 * same window whatever its clock says. `resetAt` is the caller's `now` plus what Redis has left.
 * The client belongs to the redis plugin: closing the store leaves it open.
 */
export function createRedisAttemptStore (client: Redis): AttemptStore {
  client.defineCommand('portcullisAttemptIncrement', { numberOfKeys: 1, lua: INCREMENT })
  client.defineCommand('portcullisAttemptRead', { numberOfKeys: 1, lua: READ })
  client.defineCommand('portcullisAttemptDecrement', { numberOfKeys: 1, lua: DECREMENT })
  const commands = client as unknown as AttemptCommands
  // Under the client's own prefix (REDIS_KEY_PREFIX): `attempts:` leaves room for other uses of Redis.
  const redisKey = (key: string) => `attempts:${sharedKey(key)}`

  return {
    async increment (key, windowMs, now): Promise<AttemptCount> {
      const [count, ttl] = await commands.portcullisAttemptIncrement(redisKey(key), windowMs)
      return { count, resetAt: now + ttl }
    },
    async get (key, now) {
      const found = await commands.portcullisAttemptRead(redisKey(key))
      // A key without a positive expiry has no open window (increment gives it one).
      if (found === null || found[1] <= 0) return undefined
      return { count: found[0], resetAt: now + found[1] }
    },
    async decrement (key) {
      await commands.portcullisAttemptDecrement(redisKey(key))
    },
    async delete (key) {
      await client.del(redisKey(key))
    },
    async close () {}
  }
}
