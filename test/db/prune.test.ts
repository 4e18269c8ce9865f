import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import Database from 'better-sqlite3'
import { pruneSessions } from '../../src/sessions/sessions.js'
import { build, loginUser } from '../helper.js'

/** A temp-file database, with a second read-only handle to count rows the API never shows. */
function tempDatabase (t: { teardown (fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-prune-'))
  const file = join(dir, 'p.db')
  let reader: Database.Database | undefined
  t.teardown(() => { reader?.close(); rmSync(dir, { recursive: true, force: true }) })
  return {
    env: { DATABASE_URL: `file:${file}` },
    count (table: 'sessions' | 'refresh_tokens'): number {
      reader ??= new Database(file, { readonly: true })
      return (reader.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
    }
  }
}

t.test('expired sessions and tokens are pruned in batches; live and recently revoked ones stay', async t => {
  const db = tempDatabase(t)
  let now = new Date('2026-01-01T00:00:00Z')
  const app = await build(t, {}, { now: () => now, env: db.env })
  const expiring = await loginUser(app)
  await loginUser(app)
  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: expiring.refresh } })
  t.equal(refreshed.statusCode, 200)
  t.equal(db.count('sessions'), 2)
  t.equal(db.count('refresh_tokens'), 3)

  t.equal(await pruneSessions(app.auth, 500), 0, 'nothing is dead yet')

  now = new Date('2026-01-06T00:00:00Z')
  const fresh = await loginUser(app)
  const logout = await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh: fresh.refresh } })
  t.equal(logout.statusCode, 204)
  t.equal(await pruneSessions(app.auth, 500), 0, 'a just-revoked session is kept while its access tokens may live')

  now = new Date('2026-01-09T00:00:00Z')
  const first = await pruneSessions(app.auth, 1)
  t.ok(first >= 1 && first <= 2, 'at most one session and one token per call with a batch of one')
  t.equal(db.count('sessions'), 2, 'one of the three sessions went')
  t.ok(await pruneSessions(app.auth, 500) > 0)
  t.equal(db.count('sessions'), 0, 'expired sessions and the long-revoked one are gone')
  t.equal(db.count('refresh_tokens'), 0, 'their tokens went with them')
})

t.test('the background pruner runs on its interval and stops on close', async t => {
  const db = tempDatabase(t)
  let offset = 0
  const app = await build(t, { pruneIntervalSeconds: 1 }, { now: () => new Date(Date.now() + offset), env: db.env })
  await loginUser(app)
  t.equal(db.count('sessions'), 1)
  offset = 30 * 86400_000
  await new Promise(resolve => setTimeout(resolve, 1500))
  t.equal(db.count('sessions'), 0)
})
