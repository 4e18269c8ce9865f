// Cluster-wide background job claims on PostgreSQL: one claimer per interval however many ask at once.
import t from 'tap'
import { postgresBackgroundJobRepository } from '../../../db/postgres/background-jobs.js'
import { backgroundJobs } from '../../../db/postgres/schema.js'
import { freshDatabase, holdLock } from './fresh-database.js'
import { instances } from './instances.js'

const MINUTE = 60_000

t.test('ten instances claiming one job at once: exactly one gets it, in every interval', async t => {
  const db = await freshDatabase(t)
  const repos = instances(t, db, 5).map(postgresBackgroundJobRepository)
  const claimAll = async (now: Date) => {
    // Queued behind a table lock and let go together, so the claims really race.
    const lock = await holdLock(db, 'LOCK TABLE background_jobs IN SHARE MODE')
    const pending = Array.from({ length: 10 }, (_, i) => repos[i % repos.length].claim('prune', MINUTE, now, `instance-${i}`))
    await lock.waiters(10)
    await lock.release()
    return Promise.all(pending)
  }
  const now = new Date()
  const first = await claimAll(now)
  t.equal(first.filter(Boolean).length, 1, 'the first run of a job nobody ran yet: one claimer')
  const [row] = await db.select().from(backgroundJobs)
  t.same(row, { name: 'prune', lastRunAt: now, ranBy: `instance-${first.indexOf(true)}` }, 'the winner is recorded')

  t.equal((await claimAll(new Date(now.getTime() + MINUTE - 1))).filter(Boolean).length, 0, 'within the interval: nobody')
  const next = await claimAll(new Date(now.getTime() + MINUTE))
  t.equal(next.filter(Boolean).length, 1, 'a whole interval later: one claimer again')
})

t.test('jobs are claimed independently; unsynchronised claims too give one winner', async t => {
  const db = await freshDatabase(t)
  const repos = instances(t, db, 3).map(postgresBackgroundJobRepository)
  const now = new Date()
  t.equal(await repos[0].claim('prune', MINUTE, now, 'a'), true)
  t.equal(await repos[1].claim('key-rotation', MINUTE, now, 'b'), true, 'another job has its own interval')
  for (let round = 1; round <= 3; round++) {
    const at = new Date(now.getTime() + round * MINUTE)
    const results = await Promise.all(repos.flatMap((repo, i) => [repo.claim('prune', MINUTE, at, `r${i}`), repo.claim('prune', MINUTE, at, `r${i}`)]))
    t.equal(results.filter(Boolean).length, 1, `round ${round}`)
  }
})
