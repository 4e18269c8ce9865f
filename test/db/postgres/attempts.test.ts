// The PostgreSQL attempt counters: atomic increments, fixed windows, pruning.
import t from 'tap'
import { postgresAttemptCounterRepository } from '../../../db/postgres/attempts.js'
import { freshDatabase } from './fresh-database.js'

const MINUTE = 60_000

t.test('50 concurrent increments of one key count 50', async t => {
  const db = await freshDatabase(t)
  const repo = postgresAttemptCounterRepository(db)
  const now = new Date()
  const windows = await Promise.all(Array.from({ length: 50 }, () => repo.increment('login:ada', MINUTE, now)))

  t.same(windows.map(w => w.count).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1), 'each saw its own count')
  t.ok(windows.every(w => w.resetAt.getTime() === now.getTime() + MINUTE), 'one window')
  t.same(await repo.get('login:ada', now), { count: 50, resetAt: new Date(now.getTime() + MINUTE) })
})

t.test('concurrent increments across a window boundary never lose a count', async t => {
  const db = await freshDatabase(t)
  const repo = postgresAttemptCounterRepository(db)
  const start = new Date()
  await repo.increment('k', MINUTE, start)
  const after = new Date(start.getTime() + MINUTE)
  const windows = await Promise.all(Array.from({ length: 20 }, () => repo.increment('k', MINUTE, after)))
  t.same(windows.map(w => w.count).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1), 'the new window counts from 1')
  t.same(await repo.get('k', after), { count: 20, resetAt: new Date(after.getTime() + MINUTE) })
})

t.test('a window: counts within it, starts over at its end; get sees only an open window', async t => {
  const db = await freshDatabase(t)
  const repo = postgresAttemptCounterRepository(db)
  const start = new Date()
  const resetAt = new Date(start.getTime() + MINUTE)
  t.same(await repo.increment('k', MINUTE, start), { count: 1, resetAt })
  t.same(await repo.increment('k', 5 * MINUTE, new Date(start.getTime() + 1000)), { count: 2, resetAt }, 'the window keeps its end')
  t.same(await repo.get('k', new Date(resetAt.getTime() - 1)), { count: 2, resetAt })
  t.equal(await repo.get('k', resetAt), undefined, 'ended at resetAt')
  t.equal(await repo.get('other', start), undefined)
  t.same(await repo.increment('k', MINUTE, resetAt), { count: 1, resetAt: new Date(resetAt.getTime() + MINUTE) }, 'a new window')

  await repo.delete('k')
  t.equal(await repo.get('k', start), undefined)
  await repo.delete('k')
  t.pass('deleting a missing key is fine')
})

t.test('decrement takes one back in the open window only, never below 0, and concurrently loses none', async t => {
  const db = await freshDatabase(t)
  const repo = postgresAttemptCounterRepository(db)
  const start = new Date()
  const resetAt = new Date(start.getTime() + MINUTE)
  for (let i = 0; i < 30; i++) await repo.increment('k', MINUTE, start)
  await Promise.all(Array.from({ length: 20 }, () => repo.decrement('k', start)))
  t.same(await repo.get('k', start), { count: 10, resetAt }, 'twenty taken back, the window\'s end kept')
  await Promise.all(Array.from({ length: 20 }, () => repo.decrement('k', start)))
  t.same(await repo.get('k', start), { count: 0, resetAt }, 'not below 0')
  await repo.increment('ended', MINUTE, start)
  await repo.decrement('ended', resetAt)
  t.same(await repo.get('ended', start), { count: 1, resetAt }, 'an ended window is left alone')
  await repo.decrement('never-there', start)
  t.equal(await repo.get('never-there', start), undefined)
})

t.test('prune deletes ended windows only, at most limit at a time', async t => {
  const db = await freshDatabase(t)
  const repo = postgresAttemptCounterRepository(db)
  const start = new Date()
  await repo.increment('a', MINUTE, start)
  await repo.increment('b', MINUTE, start)
  await repo.increment('c', 3 * MINUTE, start)
  const later = new Date(start.getTime() + 2 * MINUTE)
  t.equal(await repo.prune(later, 1), 1)
  t.equal(await repo.prune(later, 10), 1)
  t.equal(await repo.prune(later, 10), 0)
  t.same(await repo.get('c', later), { count: 1, resetAt: new Date(start.getTime() + 3 * MINUTE) })
})
