import t from 'tap'
import { pruneSessions } from '../../src/sessions/sessions.js'
import { build, loginUser, rawDatabase, testDatabaseUrl } from '../helper.js'
import { waitUntil } from '../wait-until.js'

/** A fresh database of the pass, with a second connection to count rows the API never shows. */
async function tempDatabase (t: { teardown (fn: () => unknown): void }) {
  const url = await testDatabaseUrl(t)
  const raw = rawDatabase(t, url)
  return {
    env: { DATABASE_URL: url },
    async count (table: 'sessions' | 'refresh_tokens'): Promise<number> {
      return (await raw.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0].n
    }
  }
}

t.test('expired sessions and tokens are pruned in batches; live and recently revoked ones stay', async t => {
  const db = await tempDatabase(t)
  let now = new Date('2026-01-01T00:00:00Z')
  const app = await build(t, {}, { now: () => now, env: db.env })
  const expiring = await loginUser(app)
  await loginUser(app)
  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: expiring.refresh } })
  t.equal(refreshed.statusCode, 200)
  t.equal(await db.count('sessions'), 2)
  t.equal(await db.count('refresh_tokens'), 3)

  t.equal(await pruneSessions(app.auth, 500), 0, 'nothing is dead yet')

  now = new Date('2026-01-06T00:00:00Z')
  const fresh = await loginUser(app)
  const logout = await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh: fresh.refresh } })
  t.equal(logout.statusCode, 204)
  t.equal(await pruneSessions(app.auth, 500), 0, 'a just-revoked session is kept while its access tokens may live')

  now = new Date('2026-01-09T00:00:00Z')
  const first = await pruneSessions(app.auth, 1)
  t.ok(first >= 1 && first <= 2, 'at most one session and one token per call with a batch of one')
  t.equal(await db.count('sessions'), 2, 'one of the three sessions went')
  t.ok(await pruneSessions(app.auth, 500) > 0)
  t.equal(await db.count('sessions'), 0, 'expired sessions and the long-revoked one are gone')
  t.equal(await db.count('refresh_tokens'), 0, 'their tokens went with them')
})

t.test('the background pruner runs on its interval and stops on close', async t => {
  const db = await tempDatabase(t)
  let offset = 0
  const app = await build(t, { pruneIntervalSeconds: 1 }, { now: () => new Date(Date.now() + offset), env: db.env })
  await loginUser(app)
  t.equal(await db.count('sessions'), 1)
  offset = 30 * 86400_000
  await waitUntil(async () => await db.count('sessions') === 0, 10_000, 'the pruner deleted the expired session', t)
  t.pass('pruned on its interval')
})
