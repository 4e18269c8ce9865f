import t from 'tap'
import type { FastifyRateLimitStore } from '@fastify/rate-limit'
import { createMemoryAttemptStore, type AttemptStore } from '../../src/limits/attempt-counter.js'
import { rateLimitStore } from '../../src/limits/rate-limit-store.js'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]
type ChildOptions = Parameters<FastifyRateLimitStore['child']>[0]

const T0 = Date.parse('2030-01-01T00:00:00.000Z')

/** What @fastify/rate-limit passes to child(): the route's merged limit options, the route under routeInfo. */
function routeLimit (method: string, url: string, timeWindow = 60_000): ChildOptions {
  return { timeWindow, max: 2, routeInfo: { method, url } } as unknown as ChildOptions
}

function incr (store: FastifyRateLimitStore, key: string, timeWindow?: number) {
  return new Promise<{ current: number, ttl: number }>((resolve, reject) => {
    const callback = (err: Error | null, result?: { current: number, ttl: number }) => err ? reject(err) : resolve(result!)
    ;(store.incr as (key: string, cb: typeof callback, timeWindow?: number) => void)(key, callback, timeWindow)
  })
}

function recordingStore (t: Test) {
  const memory = createMemoryAttemptStore()
  t.teardown(() => memory.close())
  const keys: string[] = []
  const store: AttemptStore = {
    ...memory,
    increment: (key, windowMs, now) => { keys.push(key); return memory.increment(key, windowMs, now) }
  }
  return { store, keys }
}

t.test('each route counts apart, under its method and URL, in the attempt store', async t => {
  const { store, keys } = recordingStore(t)
  const Store = rateLimitStore(store, () => T0)
  const root = new Store({})
  const confirm = root.child(routeLimit('GET', '/api/auth/password/reset/confirm'))
  const verify = root.child(routeLimit('POST', '/api/auth/verify-email'))
  t.same(await incr(confirm, '10.0.0.1', 60_000), { current: 1, ttl: 60_000 })
  t.same(await incr(confirm, '10.0.0.1', 60_000), { current: 2, ttl: 60_000 })
  t.same(await incr(confirm, '10.0.0.2', 60_000), { current: 1, ttl: 60_000 }, 'another address')
  t.same(await incr(verify, '10.0.0.1', 60_000), { current: 1, ttl: 60_000 }, 'another route')
  t.same(keys, [
    'rate-limit:GET/api/auth/password/reset/confirm:10.0.0.1',
    'rate-limit:GET/api/auth/password/reset/confirm:10.0.0.1',
    'rate-limit:GET/api/auth/password/reset/confirm:10.0.0.2',
    'rate-limit:POST/api/auth/verify-email:10.0.0.1'
  ])
})

t.test('the ttl is what is left of the window, and never negative', async t => {
  let now = T0
  const { store } = recordingStore(t)
  const limited = new (rateLimitStore(store, () => now))({}).child(routeLimit('GET', '/x'))
  await incr(limited, 'ip', 10_000)
  now = T0 + 7_500
  t.same(await incr(limited, 'ip', 10_000), { current: 2, ttl: 2_500 })
  const late: AttemptStore = { ...store, increment: async () => ({ count: 3, resetAt: T0 }) }
  t.same(await incr(new (rateLimitStore(late, () => now))({}), 'ip', 10_000), { current: 3, ttl: 0 })
})

t.test('the window comes from the call, else from the route\'s options; without one the call fails', async t => {
  const { store } = recordingStore(t)
  const Store = rateLimitStore(store, () => T0)
  const route = new Store({}).child(routeLimit('GET', '/y', 30_000))
  t.same(await incr(route, 'ip'), { current: 1, ttl: 30_000 }, 'the route\'s window')
  t.same(await incr(route, 'other', 5_000), { current: 1, ttl: 5_000 }, 'the window passed by the plugin')
  await t.rejects(incr(new Store({ timeWindow: '1 minute' } as never), 'ip'), /numeric timeWindow/)
  const bare = new Store({}).child({} as ChildOptions)
  t.same(await incr(bare, 'ip', 1_000), { current: 1, ttl: 1_000 }, 'a child without route info still counts')
})

t.test('a failing attempt store fails the call (the plugin then answers 500, never lets it through)', async t => {
  const failing: AttemptStore = {
    increment: async () => { throw new Error('connection terminated') },
    get: async () => undefined,
    decrement: async () => {},
    delete: async () => {},
    close: async () => {}
  }
  const route = new (rateLimitStore(failing))({}).child(routeLimit('GET', '/z'))
  await t.rejects(incr(route, 'ip', 1_000), { message: 'connection terminated' })
})
