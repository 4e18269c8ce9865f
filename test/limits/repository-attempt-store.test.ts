import t from 'tap'
import type { AttemptCounterRepository, AttemptWindow } from '../../db/repositories.js'
import { createRepositoryAttemptStore } from '../../src/limits/repository-attempt-store.js'
import { sharedKey } from '../../src/limits/shared-key.js'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const MINUTE = 60_000
const T0 = Date.parse('2030-01-01T00:00:00.000Z')

/** The repository's contract in memory, recording its calls. */
function fakeRepository () {
  const rows = new Map<string, AttemptWindow>()
  const calls: string[] = []
  const repository: AttemptCounterRepository = {
    async increment (key, windowMs, now) {
      calls.push(`increment ${key}`)
      let row = rows.get(key)
      if (row === undefined || row.resetAt <= now) {
        row = { count: 0, resetAt: new Date(now.getTime() + windowMs) }
        rows.set(key, row)
      }
      row.count += 1
      return { ...row }
    },
    async get (key, now) {
      calls.push(`get ${key}`)
      const row = rows.get(key)
      return row !== undefined && row.resetAt > now ? { ...row } : undefined
    },
    async decrement (key, now) {
      calls.push(`decrement ${key}`)
      const row = rows.get(key)
      if (row !== undefined && row.resetAt > now && row.count > 0) row.count -= 1
    },
    async delete (key) {
      calls.push(`delete ${key}`)
      rows.delete(key)
    },
    async prune (now, limit) {
      calls.push(`prune ${limit}`)
      let deleted = 0
      for (const [key, row] of rows) {
        if (deleted < limit && row.resetAt <= now) { rows.delete(key); deleted++ }
      }
      return deleted
    }
  }
  return { repository, rows, calls }
}

function store (t: Test, repository: AttemptCounterRepository) {
  const created = createRepositoryAttemptStore(repository, { sweepIntervalMs: 0 })
  t.teardown(() => created.close())
  return created
}

t.test('the store counts through the repository in fixed windows, with epoch-ms times', async t => {
  const { repository } = fakeRepository()
  const attempts = store(t, repository)
  t.same(await attempts.increment('k', MINUTE, T0), { count: 1, resetAt: T0 + MINUTE })
  t.same(await attempts.increment('k', MINUTE, T0 + 10_000), { count: 2, resetAt: T0 + MINUTE })
  t.same(await attempts.get('k', T0 + 30_000), { count: 2, resetAt: T0 + MINUTE })
  t.equal(await attempts.get('k', T0 + MINUTE), undefined, 'an ended window reads as nothing')
  t.same(await attempts.increment('k', MINUTE, T0 + MINUTE), { count: 1, resetAt: T0 + 2 * MINUTE })
  t.equal(await attempts.get('unknown', T0), undefined)
})

t.test('delete drops one key', async t => {
  const { repository } = fakeRepository()
  const attempts = store(t, repository)
  await attempts.increment('a', MINUTE, T0)
  await attempts.increment('b', MINUTE, T0)
  await attempts.delete('a')
  t.equal(await attempts.get('a', T0), undefined)
  t.same(await attempts.get('b', T0), { count: 1, resetAt: T0 + MINUTE })
})

t.test('the repository sees digests, never the typed login or email address', async t => {
  const { repository, rows, calls } = fakeRepository()
  const attempts = store(t, repository)
  const key = 'login-failures:account:email:ada@example.com'
  await attempts.increment(key, MINUTE, T0)
  await attempts.get(key, T0)
  await attempts.decrement(key, T0)
  await attempts.delete(key)
  const digest = sharedKey(key)
  t.match(digest, /^[A-Za-z0-9_-]{43}$/)
  t.same(calls, [`increment ${digest}`, `get ${digest}`, `decrement ${digest}`, `delete ${digest}`])
  t.equal(rows.size, 0)
  t.not(sharedKey('login-failures:ip:10.0.0.1'), sharedKey('login-failures:ip:10.0.0.2'))
})

t.test('the sweeper deletes ended windows in batches, one sweep at a time, and stops on close', async t => {
  const timer = { unref: () => timer }
  const setIntervalCalls = t.capture(globalThis, 'setInterval', (() => timer) as unknown as typeof setInterval)
  const clearIntervalCalls = t.capture(globalThis, 'clearInterval', () => {})
  const { repository, calls } = fakeRepository()
  let finish!: () => void
  const pruning = t.capture(repository, 'prune', () => new Promise<number>(resolve => { finish = () => resolve(3) }))
  const attempts = createRepositoryAttemptStore(repository, { sweepIntervalMs: 1234, sweepBatchSize: 7 })
  const [call] = setIntervalCalls()
  t.equal(call.args[1], 1234)
  const sweep = call.args[0] as () => void

  sweep()
  sweep()
  t.equal(pruning().length, 1, 'a sweep still running is not started twice')
  finish()
  await new Promise(resolve => setImmediate(resolve))
  sweep()
  const [later] = pruning()
  t.equal(later.args[1], 7, 'at most a batch')
  t.ok(later.args[0] instanceof Date)
  t.same(calls, [])

  await attempts.close()
  t.same(clearIntervalCalls().map(c => c.args[0]), [timer])
})

t.test('a failed sweep is reported and the next one still runs', async t => {
  const timer = { unref: () => timer }
  const setIntervalCalls = t.capture(globalThis, 'setInterval', (() => timer) as unknown as typeof setInterval)
  t.capture(globalThis, 'clearInterval', () => {})
  const { repository } = fakeRepository()
  const pruning = t.capture(repository, 'prune', async () => { throw new Error('connection terminated') })
  const reported: unknown[] = []
  const attempts = createRepositoryAttemptStore(repository, { onSweepError: err => reported.push(err) })
  t.teardown(() => attempts.close())
  const [call] = setIntervalCalls()
  t.equal(call.args[1], 60_000, 'a minute by default')
  const sweep = call.args[0] as () => void
  sweep()
  await new Promise(resolve => setImmediate(resolve))
  sweep()
  await new Promise(resolve => setImmediate(resolve))
  const sweeps = pruning()
  t.equal(sweeps.length, 2)
  t.equal(sweeps[0].args[1], 500, 'a batch of 500 by default')
  t.equal(reported.length, 2)
  t.match(reported[0], { message: 'connection terminated' })
})

t.test('the real sweeper timer is unref\'d and the sweeper can be turned off', async t => {
  const { repository } = fakeRepository()
  const setIntervalCalls = t.capture(globalThis, 'setInterval', setInterval)
  const off = createRepositoryAttemptStore(repository, { sweepIntervalMs: 0 })
  t.equal(setIntervalCalls().length, 0)
  await off.close()
  const on = createRepositoryAttemptStore(repository)
  const [call] = setIntervalCalls()
  t.equal(('returned' in call ? call.returned as NodeJS.Timeout : undefined)?.hasRef(), false, 'it does not keep the process alive')
  await on.close()
})
