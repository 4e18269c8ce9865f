import t from 'tap'
import { createMemoryAttemptStore, type AttemptStore } from '../../src/limits/attempt-counter.js'
import { createFallbackAttemptStore } from '../../src/limits/fallback-attempt-store.js'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const MINUTE = 60_000
const T0 = Date.parse('2030-01-01T00:00:00.000Z')

/** A memory store that can be made to fail (like Redis down) or to hang until released. */
function flakyStore (t: Test) {
  const memory = createMemoryAttemptStore()
  t.teardown(() => memory.close())
  const state = { down: false, calls: 0, closed: false, gate: undefined as Promise<void> | undefined }
  const guard = async () => {
    state.calls += 1
    if (state.gate !== undefined) await state.gate
    if (state.down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379')
  }
  const store: AttemptStore = {
    async increment (key, windowMs, now) { await guard(); return memory.increment(key, windowMs, now) },
    async get (key, now) { await guard(); return memory.get(key, now) },
    async decrement (key, now) { await guard(); return memory.decrement(key, now) },
    async delete (key) { await guard(); return memory.delete(key) },
    async close () { state.closed = true }
  }
  return { store, state, memory }
}

function setup (t: Test, retryIntervalMs = 0) {
  const primary = flakyStore(t)
  const fallback = flakyStore(t)
  const events: string[] = []
  const errors: unknown[] = []
  const store = createFallbackAttemptStore(primary.store, fallback.store, {
    retryIntervalMs,
    onFallback: err => { events.push('fallback'); errors.push(err) },
    onRecovery: () => events.push('recovery')
  })
  return { primary, fallback, store, events, errors }
}

t.test('while the primary answers, everything counts there and the fallback is not asked', async t => {
  const { primary, fallback, store, events } = setup(t)
  await store.increment('k', MINUTE, T0)
  await store.increment('k', MINUTE, T0)
  t.same(await store.get('k', T0), { count: 2, resetAt: T0 + MINUTE })
  await store.delete('other')
  t.same(await primary.memory.get('k', T0), { count: 2, resetAt: T0 + MINUTE })
  t.equal(fallback.state.calls, 0)
  t.same(events, [])
  t.equal(store.degraded, false)
})

t.test('when the primary fails, the operation runs on the fallback: the limit keeps counting and nothing throws', async t => {
  const { primary, fallback, store, events, errors } = setup(t)
  await store.increment('k', MINUTE, T0)
  primary.state.down = true
  t.same(await store.increment('k', MINUTE, T0), { count: 1, resetAt: T0 + MINUTE }, 'counted in the fallback')
  t.same(await store.increment('k', MINUTE, T0), { count: 2, resetAt: T0 + MINUTE })
  t.same(await store.get('k', T0), { count: 2, resetAt: T0 + MINUTE }, 'read from the fallback')
  await store.decrement('k', T0)
  t.same(await fallback.memory.get('k', T0), { count: 1, resetAt: T0 + MINUTE }, 'taken back in the fallback')
  await store.delete('k')
  t.equal(await fallback.memory.get('k', T0), undefined, 'deleted in the fallback')
  t.same(events, ['fallback'], 'one event for the whole outage')
  t.match(errors[0], { message: /ECONNREFUSED/ })
  t.equal(store.degraded, true)
})

t.test('the first success after an outage switches back, with one recovery event; a second outage is a new event', async t => {
  const { primary, store, events } = setup(t)
  primary.state.down = true
  await store.increment('k', MINUTE, T0)
  await store.increment('k', MINUTE, T0)
  primary.state.down = false
  t.same(await store.increment('k', MINUTE, T0), { count: 1, resetAt: T0 + MINUTE }, 'counted in the primary again')
  await store.increment('k', MINUTE, T0)
  t.equal(store.degraded, false)
  primary.state.down = true
  await store.get('k', T0)
  primary.state.down = false
  await store.get('k', T0)
  t.same(events, ['fallback', 'recovery', 'fallback', 'recovery'])
})

t.test('concurrent failures and successes around an outage log it once each way', async t => {
  const { primary, store, events } = setup(t)
  primary.state.down = true
  await Promise.all(Array.from({ length: 10 }, () => store.increment('k', MINUTE, T0)))
  t.same(events, ['fallback'])
  primary.state.down = false
  await Promise.all(Array.from({ length: 10 }, () => store.increment('k', MINUTE, T0)))
  t.same(events, ['fallback', 'recovery'])
})

t.test('an operation that started before the outage and succeeds after it was noticed does not end it', async t => {
  const { primary, store, events } = setup(t)
  let release!: () => void
  primary.state.gate = new Promise(resolve => { release = resolve })
  const slow = store.increment('k', MINUTE, T0)
  await new Promise(resolve => setImmediate(resolve))
  primary.state.gate = undefined
  primary.state.down = true
  await store.increment('k', MINUTE, T0)
  t.same(events, ['fallback'])
  primary.state.down = false
  // The slow one passes its guard now that the primary "answers", but it was asked before the outage.
  release()
  await slow
  t.same(events, ['fallback'], 'still degraded')
  t.equal(store.degraded, true)
  await store.increment('k', MINUTE, T0)
  t.same(events, ['fallback', 'recovery'], 'the next operation ends it')
})

t.test('while degraded, the primary is tried again only once per retry interval', async t => {
  const { primary, fallback, store, events } = setup(t, 60 * MINUTE)
  primary.state.down = true
  await store.increment('k', MINUTE, T0)
  const asked = primary.state.calls
  for (let i = 0; i < 5; i++) await store.increment('k', MINUTE, T0)
  t.equal(primary.state.calls, asked, 'a primary that failed a moment ago is not asked again')
  t.equal(fallback.state.calls, 6)
  primary.state.down = false
  await store.increment('k', MINUTE, T0)
  t.equal(primary.state.calls, asked, 'not before the interval, even once it is back')
  t.same(events, ['fallback'])
  t.same(await fallback.memory.get('k', T0), { count: 7, resetAt: T0 + MINUTE })
})

t.test('the default retry interval lets the primary be asked again a second later', async t => {
  const clock = { now: T0 }
  t.capture(Date, 'now', () => clock.now)
  const primary = flakyStore(t)
  const fallback = flakyStore(t)
  const store = createFallbackAttemptStore(primary.store, fallback.store, { onFallback: () => {}, onRecovery: () => {} })
  primary.state.down = true
  await store.get('k', T0)
  primary.state.down = false
  clock.now = T0 + 999
  await store.get('k', T0)
  t.equal(store.degraded, true)
  clock.now = T0 + 1000
  await store.get('k', T0)
  t.equal(store.degraded, false)
})

t.test('a failing fallback fails the operation: nothing is let through uncounted', async t => {
  const { primary, fallback, store } = setup(t)
  primary.state.down = true
  fallback.state.down = true
  await t.rejects(store.increment('k', MINUTE, T0), /ECONNREFUSED/)
  await t.rejects(store.get('k', T0), /ECONNREFUSED/)
})

t.test('closing closes both stores', async t => {
  const { primary, fallback, store } = setup(t)
  await store.close()
  t.ok(primary.state.closed)
  t.ok(fallback.state.closed)
})
