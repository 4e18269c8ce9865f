// Background job claims on SQLite: the same contract as on PostgreSQL, also between two handles on one file.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { sqliteBackgroundJobRepository } from '../../db/sqlite/background-jobs.js'
import { openDatabase } from '../../db/sqlite/connection.js'
import { backgroundJobs } from '../../db/sqlite/schema.js'

const MINUTE = 60_000

t.test('one claim per interval and job; the claimer is recorded', async t => {
  const db = openDatabase(':memory:')
  t.teardown(() => db.$client.close())
  const jobs = sqliteBackgroundJobRepository(db)
  const now = new Date()
  t.equal(await jobs.claim('prune', MINUTE, now, 'a'), true)
  t.equal(await jobs.claim('prune', MINUTE, now, 'b'), false)
  t.equal(await jobs.claim('prune', MINUTE, new Date(now.getTime() + MINUTE - 1), 'b'), false)
  t.equal(await jobs.claim('other', MINUTE, now, 'b'), true, 'each job has its own interval')
  t.equal(await jobs.claim('prune', MINUTE, new Date(now.getTime() + MINUTE), 'b'), true)
  t.same(db.select().from(backgroundJobs).all(), [
    { name: 'prune', lastRunAt: new Date(now.getTime() + MINUTE), ranBy: 'b' },
    { name: 'other', lastRunAt: now, ranBy: 'b' }
  ])
})

t.test('two processes sharing one file: one claim', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-jobs-'))
  const url = `file:${join(dir, 'jobs.db')}`
  const first = openDatabase(url)
  const second = openDatabase(url)
  t.teardown(() => {
    first.$client.close()
    second.$client.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const now = new Date()
  const results = await Promise.all([first, second, first, second].map((db, i) => sqliteBackgroundJobRepository(db).claim('prune', MINUTE, now, `p${i}`)))
  t.equal(results.filter(Boolean).length, 1)
})
