// The background pruner prunes only in the intervals it claims: however many instances share the
// database, one of them prunes per interval.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, loginUser, manualClock } from '../helper.js'
import { waitUntil } from '../wait-until.js'

const DAY = 86_400_000

/** Records every claim made through the app's repositories: when, by whom, and whether it got the run. */
function spyOnClaims (app: FastifyInstance) {
  const jobs = app.repositories.backgroundJobs
  const claim = jobs.claim.bind(jobs)
  const claims: Array<{ name: string, now: number, instance: string, claimed: boolean }> = []
  jobs.claim = async (name, intervalMs, now, instance) => {
    const claimed = await claim(name, intervalMs, now, instance)
    claims.push({ name, now: now.getTime(), instance, claimed })
    return claimed
  }
  return claims
}

const sessionOf = (access: string) => JSON.parse(Buffer.from(access.split('.')[1], 'base64url').toString()).sid as string

t.test('an interval another instance claimed is not pruned here; the next one is, once', async t => {
  const clock = manualClock()
  const app = await build(t, { pruneIntervalSeconds: 1 }, { now: clock.now })
  const claims = spyOnClaims(app)
  const user = await loginUser(app)
  const sid = sessionOf(user.access)

  // Thirty days on, the session is long expired; another instance has just run this interval's pruning.
  const later = new Date(clock.now().getTime() + 30 * DAY)
  t.equal(await app.repositories.backgroundJobs.claim('prune', 1000, later, 'another-instance'), true)
  clock.advance(30 * DAY)
  const at = (now: number) => claims.filter(c => c.name === 'prune' && c.now === now && c.instance !== 'another-instance')
  await waitUntil(() => at(later.getTime()).length >= 3, 30_000, 'three claims in the interval another instance ran', t)
  t.ok(at(later.getTime()).every(c => !c.claimed), 'every claim refused')
  t.not(await app.repositories.sessions.findAuthState(sid), undefined, 'so the expired session is still there')

  clock.advance(1000)
  const next = clock.now().getTime()
  await waitUntil(async () => await app.repositories.sessions.findAuthState(sid) === undefined, 30_000, 'the expired session pruned', t)
  await waitUntil(() => at(next).length >= 4, 30_000, 'more claims in the same interval', t)
  t.equal(at(next).filter(c => c.claimed).length, 1, 'one run in the interval, however often the timer asks')
  t.ok(at(next)[0].claimed, 'the first claim of the interval got it')
})
