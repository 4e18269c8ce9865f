// PostgreSQL crashes and restarts under a write load: the service answers 503 meanwhile (never a 500),
// recovers by itself, and every write it acknowledged is still there.
import t from 'tap'
import pg from 'pg'
import { ON_POSTGRES } from '../helper.js'
import { waitUntil } from '../wait-until.js'
import { ensureBuilt, serverEnv, startInstance } from './cluster.js'
import { privatePostgresUnavailable, startPrivatePostgres } from './private-postgres.js'

const unavailable = ON_POSTGRES ? privatePostgresUnavailable() : 'the PostgreSQL pass (TEST_DATABASE_URL) only'

t.test('a crash and restart of PostgreSQL loses no acknowledged write, and the service recovers by itself', { skip: unavailable ?? false }, async t => {
  const [database] = await Promise.all([startPrivatePostgres(t), ensureBuilt()])
  const server = await startInstance(t, 'A', serverEnv({ DATABASE_URL: database.url, RATE_LIMIT_REGISTER_IP: 'off' }))

  const acknowledged: string[] = []
  const refusals = new Map<number, number>()
  let restarted = false
  let acknowledgedAfterRestart = 0
  const writer = (async () => {
    for (let i = 0; acknowledgedAfterRestart < 20; i++) {
      const email = `restart${i}@example.com`
      const res = await server.post('/api/auth/register', { email, username: `restart${i}`, password: 'correct horse battery' })
      if (res.status === 201) {
        acknowledged.push(email)
        if (restarted) acknowledgedAfterRestart++
      } else {
        refusals.set(res.status, (refusals.get(res.status) ?? 0) + 1)
      }
    }
  })()

  await waitUntil(() => acknowledged.length >= 20, 60_000, 'writes before the crash', t)
  await database.crashAndRestart()
  restarted = true
  await writer
  await waitUntil(async () => (await server.get('/health/ready')).status === 200, 60_000, 'ready again', t)

  t.same([...refusals.keys()].filter(status => status !== 503), [], `while PostgreSQL was down the answers were 503, never a 500 (${refusals.get(503) ?? 0} refused)`)
  const check = new pg.Client({ connectionString: database.url })
  await check.connect()
  const { rows } = await check.query<{ email: string }>('SELECT email FROM users')
  await check.end()
  const stored = new Set(rows.map(row => row.email))
  t.same(acknowledged.filter(email => !stored.has(email)), [], `all ${acknowledged.length} acknowledged registrations survived the crash`)
})
