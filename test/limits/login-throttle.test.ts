import t from 'tap'
import { createMemoryAttemptStore, type AttemptStore } from '../../src/limits/attempt-counter.js'
import { ProblemError } from '../../src/errors.js'
import { createLoginThrottle, type LoginThrottle } from '../../src/limits/login-throttle.js'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const T0 = Date.parse('2030-01-01T00:00:00.000Z')
const MINUTE = 60_000
const OFF = { max: 0, windowSeconds: 60 }

function at (ms: number): Date {
  return new Date(T0 + ms)
}

/** A memory store closed when the test ends. */
function memoryStore (t: Test, sweepIntervalMs?: number): AttemptStore {
  const store = createMemoryAttemptStore(sweepIntervalMs)
  t.teardown(() => store.close())
  return store
}

/** The 429 the throttle throws, with its Retry-After in seconds. */
function limited (retryAfter: number) {
  return { statusCode: 429, code: 'rate_limited', headers: { 'retry-after': String(retryAfter) } }
}

// The memory store

t.test('the store counts within a fixed window that does not slide', async t => {
  const store = memoryStore(t)
  t.same(await store.increment('k', MINUTE, T0), { count: 1, resetAt: T0 + MINUTE })
  t.same(await store.increment('k', MINUTE, T0 + 10_000), { count: 2, resetAt: T0 + MINUTE })
  t.same(await store.increment('k', MINUTE, T0 + MINUTE - 1), { count: 3, resetAt: T0 + MINUTE }, 'later attempts do not push the end back')
  t.same(await store.get('k', T0 + 30_000), { count: 3, resetAt: T0 + MINUTE })
})

t.test('the store starts over once the window has ended', async t => {
  const store = memoryStore(t)
  await store.increment('k', MINUTE, T0)
  await store.increment('k', MINUTE, T0)
  t.equal(await store.get('k', T0 + MINUTE), undefined, 'an ended window reads as nothing')
  t.same(await store.increment('k', MINUTE, T0 + MINUTE), { count: 1, resetAt: T0 + 2 * MINUTE }, 'a new window opens at the end of the last')
})

t.test('the store keeps keys apart and reads nothing for an unknown key', async t => {
  const store = memoryStore(t)
  await store.increment('a', MINUTE, T0)
  await store.increment('a', MINUTE, T0)
  await store.increment('b', 5 * MINUTE, T0)
  t.same(await store.get('a', T0), { count: 2, resetAt: T0 + MINUTE })
  t.same(await store.get('b', T0), { count: 1, resetAt: T0 + 5 * MINUTE })
  t.equal(await store.get('c', T0), undefined)
})

t.test('the store hands out copies, not its own records', async t => {
  const store = memoryStore(t)
  const first = await store.increment('k', MINUTE, T0)
  first.count = 100
  const read = await store.get('k', T0)
  if (read !== undefined) read.resetAt = 0
  t.same(await store.get('k', T0), { count: 1, resetAt: T0 + MINUTE })
})

t.test('decrement takes one back in the open window, never below 0, and keeps the window\'s end', async t => {
  const store = memoryStore(t)
  await store.increment('k', MINUTE, T0)
  await store.increment('k', MINUTE, T0)
  await store.decrement('k', T0 + 1000)
  t.same(await store.get('k', T0), { count: 1, resetAt: T0 + MINUTE })
  await store.decrement('k', T0)
  await store.decrement('k', T0)
  t.same(await store.get('k', T0), { count: 0, resetAt: T0 + MINUTE }, 'not below 0')
  await store.increment('k', MINUTE, T0)
  await store.decrement('k', T0 + MINUTE)
  t.same(await store.get('k', T0), { count: 1, resetAt: T0 + MINUTE }, 'an ended window is left alone')
  await store.decrement('never-there', T0)
  t.equal(await store.get('never-there', T0), undefined)
})

t.test('delete drops one key only', async t => {
  const store = memoryStore(t)
  await store.increment('a', MINUTE, T0)
  await store.increment('b', MINUTE, T0)
  await store.delete('a')
  await store.delete('never-there')
  t.equal(await store.get('a', T0), undefined)
  t.same(await store.get('b', T0), { count: 1, resetAt: T0 + MINUTE })
  t.same(await store.increment('a', MINUTE, T0 + 1000), { count: 1, resetAt: T0 + 1000 + MINUTE }, 'a deleted key starts a fresh window')
})

t.test('the sweeper drops ended windows and keeps open ones', async t => {
  const timer = { unref: () => timer }
  const setIntervalCalls = t.capture(globalThis, 'setInterval', (() => timer) as unknown as typeof setInterval)
  const unrefCalls = t.capture(timer, 'unref', () => timer)
  const store = memoryStore(t, 1234)
  const [call] = setIntervalCalls()
  t.equal(call.args[1], 1234, 'sweeps at the given interval')
  t.equal(unrefCalls().length, 1, 'the sweeper does not keep the process alive')
  const sweep = call.args[0] as () => void

  // The sweeper reads the real clock: a window that ended in 2000 is over, one ending in an hour is not.
  const past = Date.parse('2000-01-01T00:00:00.000Z')
  await store.increment('ended', MINUTE, past)
  const now = Date.now()
  await store.increment('open', 60 * MINUTE, now)
  t.same(await store.get('ended', past), { count: 1, resetAt: past + MINUTE }, 'still held before the sweep')
  sweep()
  t.equal(await store.get('ended', past), undefined, 'swept')
  t.same(await store.get('open', now), { count: 1, resetAt: now + 60 * MINUTE }, 'kept')
})

t.test('close stops the sweeper and forgets every window', async t => {
  const timer = { unref: () => timer }
  t.capture(globalThis, 'setInterval', (() => timer) as unknown as typeof setInterval)
  const clearIntervalCalls = t.capture(globalThis, 'clearInterval', () => {})
  const store = createMemoryAttemptStore()
  await store.increment('k', MINUTE, T0)
  await store.close()
  t.same(clearIntervalCalls().map(c => c.args[0]), [timer], 'the sweeper is stopped')
  t.equal(await store.get('k', T0), undefined)
})

t.test('the default sweep interval is a minute', async t => {
  const timer = { unref: () => timer }
  const setIntervalCalls = t.capture(globalThis, 'setInterval', (() => timer) as unknown as typeof setInterval)
  t.capture(globalThis, 'clearInterval', () => {})
  const store = createMemoryAttemptStore()
  t.teardown(() => store.close())
  t.equal(setIntervalCalls()[0].args[1], 60_000)
})

// The login throttle

/** `n` attempts that failed (counted, never given back). */
async function fail (throttle: LoginThrottle, account: string, ip: string, when: Date, n = 1) {
  for (let i = 0; i < n; i++) await throttle.countAttempt(account, ip, when)
}

t.test('an account is limited after max attempts in its window, with Retry-After to the window\'s end', async t => {
  const throttle = createLoginThrottle(memoryStore(t), { perAccount: { max: 5, windowSeconds: 300 }, perIp: OFF })
  for (let i = 0; i < 5; i++) await t.resolves(throttle.countAttempt('user:1', '10.0.0.1', at(i * 1000)))
  await t.rejects(throttle.countAttempt('user:1', '10.0.0.1', at(5000)), limited(295), 'the window opened at the first attempt')
  await t.rejects(throttle.countAttempt('user:1', '10.0.0.1', at(240_000)), limited(60))
  await t.rejects(throttle.countAttempt('user:1', '10.0.0.99', at(5000)), limited(295), 'from any address')
  await t.resolves(throttle.countAttempt('user:2', '10.0.0.1', at(5000)), 'another account is not limited')
})

t.test('attempts in flight together count before any is decided: at most max get through, however many at once', async t => {
  const store = memoryStore(t)
  const throttle = createLoginThrottle(store, { perAccount: { max: 5, windowSeconds: 300 }, perIp: { max: 8, windowSeconds: 60 } })
  const outcomes = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => throttle.countAttempt('user:1', `10.0.0.${i % 3}`, at(0))))
  t.equal(outcomes.filter(o => o.status === 'fulfilled').length, 5)
  t.same(await store.get('login-failures:account:user:1', T0), { count: 5, resetAt: T0 + 300_000 }, 'refused attempts are not counted')
})

t.test('the error is the problem the error handler renders', async t => {
  const throttle = createLoginThrottle(memoryStore(t), { perAccount: { max: 1, windowSeconds: 60 }, perIp: OFF })
  await fail(throttle, 'user:1', 'ip', at(0))
  const err = await throttle.countAttempt('user:1', 'ip', at(0)).then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof ProblemError)
  t.equal((err as ProblemError).title, 'Too Many Requests')
  t.match((err as ProblemError).message, /60 seconds/)
})

t.test('the account limit lifts exactly when the window ends, and refused attempts do not extend it', async t => {
  const throttle = createLoginThrottle(memoryStore(t), { perAccount: { max: 2, windowSeconds: 300 }, perIp: OFF })
  await fail(throttle, 'user:1', 'ip', at(0))
  await fail(throttle, 'user:1', 'ip', at(200_000))
  await t.rejects(throttle.countAttempt('user:1', 'ip', at(299_999)), limited(1))
  await t.resolves(throttle.countAttempt('user:1', 'ip', at(300_000)))
  await t.resolves(throttle.countAttempt('user:1', 'ip', at(300_001)), 'one attempt in the new window, room for another')
  await t.rejects(throttle.countAttempt('user:1', 'ip', at(300_002)), limited(300))
})

t.test('Retry-After rounds up and is never 0', async t => {
  const throttle = createLoginThrottle(memoryStore(t), { perAccount: { max: 1, windowSeconds: 10 }, perIp: OFF })
  await fail(throttle, 'user:1', 'ip', at(0))
  await t.rejects(throttle.countAttempt('user:1', 'ip', at(8500)), limited(2))
  await t.rejects(throttle.countAttempt('user:1', 'ip', at(9999)), limited(1))
})

t.test('an address is limited after max attempts across accounts', async t => {
  const throttle = createLoginThrottle(memoryStore(t), { perAccount: { max: 5, windowSeconds: 300 }, perIp: { max: 3, windowSeconds: 60 } })
  for (const account of ['user:1', 'user:2', 'email:x@example.com']) await fail(throttle, account, '10.0.0.1', at(0))
  await t.rejects(throttle.countAttempt('user:4', '10.0.0.1', at(1000)), limited(59))
  await t.resolves(throttle.countAttempt('user:4', '10.0.0.2', at(1000)), 'another address is not limited')
  await t.resolves(throttle.countAttempt('user:5', '10.0.0.1', at(60_000)), 'lifted when the window ends')
})

t.test('the account limit is checked first, either limit refuses, and a refusal counts on neither', async t => {
  const store = memoryStore(t)
  const throttle = createLoginThrottle(store, { perAccount: { max: 1, windowSeconds: 300 }, perIp: { max: 1, windowSeconds: 60 } })
  await fail(throttle, 'user:1', '10.0.0.1', at(0))
  await t.rejects(throttle.countAttempt('user:1', '10.0.0.1', at(0)), limited(300), 'both limited: the account\'s')
  await t.rejects(throttle.countAttempt('user:1', '10.0.0.2', at(0)), limited(300), 'account only')
  await t.rejects(throttle.countAttempt('user:2', '10.0.0.1', at(0)), limited(60), 'address only')
  t.equal((await store.get('login-failures:account:user:2', T0))?.count, 0, 'the account of an attempt the address refused is not counted')
  t.notOk((await store.get('login-failures:ip:10.0.0.2', T0))?.count, 'nor the address of one the account refused')
  t.equal((await store.get('login-failures:ip:10.0.0.1', T0))?.count, 1)
})

t.test('account and address counters never share a key', async t => {
  const throttle = createLoginThrottle(memoryStore(t), { perAccount: { max: 1, windowSeconds: 60 }, perIp: { max: 1, windowSeconds: 60 } })
  await fail(throttle, 'same', 'other-ip', at(0))
  await t.resolves(throttle.countAttempt('another', 'same', at(0)), 'an address that reads like the account is not limited')
})

t.test('a success clears the account\'s failures and gives the address its attempt back, not its failures', async t => {
  const throttle = createLoginThrottle(memoryStore(t), { perAccount: { max: 2, windowSeconds: 300 }, perIp: { max: 3, windowSeconds: 60 } })
  await fail(throttle, 'user:1', '10.0.0.1', at(0), 2)
  await t.rejects(throttle.countAttempt('user:1', '10.0.0.2', at(0)), limited(300))
  await throttle.countAttempt('user:3', '10.0.0.2', at(0))
  await throttle.recordSuccess('user:1', '10.0.0.2', at(0))
  await t.resolves(throttle.countAttempt('user:1', '10.0.0.2', at(0)))
  await throttle.recordSuccess('user:1', '10.0.0.2', at(0))
  for (let i = 0; i < 3; i++) {
    await throttle.countAttempt(`user:${10 + i}`, '10.0.0.3', at(0))
    await throttle.recordSuccess(`user:${10 + i}`, '10.0.0.3', at(0))
  }
  await t.resolves(throttle.countAttempt('user:9', '10.0.0.3', at(0)), 'successes use up nothing of the address\'s limit')
  await t.resolves(throttle.countAttempt('user:20', '10.0.0.1', at(0)))
  await t.rejects(throttle.countAttempt('user:21', '10.0.0.1', at(0)), limited(60), 'the address kept its two failures')
})

t.test('a forgotten attempt (the compare never ran) is given back on both keys', async t => {
  const store = memoryStore(t)
  const throttle = createLoginThrottle(store, { perAccount: { max: 1, windowSeconds: 300 }, perIp: { max: 1, windowSeconds: 60 } })
  await throttle.countAttempt('user:1', '10.0.0.1', at(0))
  await throttle.forgetAttempt('user:1', '10.0.0.1', at(0))
  await t.resolves(throttle.countAttempt('user:1', '10.0.0.1', at(0)))
})

t.test('a limit of max 0 is off: nothing is counted or refused', async t => {
  const store = memoryStore(t)
  const increments = t.capture(store, 'increment', store.increment)
  const decrements = t.capture(store, 'decrement', store.decrement)
  const throttle = createLoginThrottle(store, { perAccount: OFF, perIp: OFF })
  for (let i = 0; i < 50; i++) await throttle.countAttempt('user:1', '10.0.0.1', at(0))
  await throttle.recordSuccess('user:1', '10.0.0.1', at(0))
  await throttle.forgetAttempt('user:1', '10.0.0.1', at(0))
  t.equal(increments().length, 0)
  t.equal(decrements().length, 0)
})

t.test('with only the address limit on, accounts are not counted', async t => {
  const store = memoryStore(t)
  const increments = t.capture(store, 'increment', store.increment)
  const throttle = createLoginThrottle(store, { perAccount: OFF, perIp: { max: 2, windowSeconds: 60 } })
  await fail(throttle, 'user:1', '10.0.0.1', at(0), 2)
  t.same(increments().map(c => c.args[0]), ['login-failures:ip:10.0.0.1', 'login-failures:ip:10.0.0.1'])
  await t.rejects(throttle.countAttempt('user:1', '10.0.0.1', at(0)), limited(60))
  await t.resolves(throttle.countAttempt('user:1', '10.0.0.2', at(0)))
})
