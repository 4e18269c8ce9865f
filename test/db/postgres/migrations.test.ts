// PostgreSQL migrations: applied once however many instances open an empty database together, by
// the server as by `portcullis migrate`, with the built-in permissions and the unlogged counters.
import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { closePostgres, openPostgres } from '../../../db/postgres/connection.js'
import { ON_POSTGRES, rawDatabase } from '../../helper.js'
import { emptyPostgresDatabase } from '../../databases.js'
import { portcullis } from '../../cli/run.js'

const migrations = new URL('../../../db/postgres/migrations/', import.meta.url)
const journal = JSON.parse(readFileSync(new URL('meta/_journal.json', migrations), 'utf8')) as { entries: Array<{ tag: string }> }
const BUILT_IN = ['audit.view', 'clients.manage', 'groups.manage', 'users.ban', 'users.change', 'users.delete', 'users.view', 'webhooks.manage']
const needsServer = { skip: !ON_POSTGRES && 'needs TEST_DATABASE_URL (the PostgreSQL pass)' }

t.test('the journal lists every migration file, in order', async t => {
  const files = readdirSync(migrations).filter(name => name.endsWith('.sql')).sort()
  t.same(journal.entries.map(entry => `${entry.tag}.sql`), files)
})

t.test('five instances opening an empty database at once migrate it once, and none fails', needsServer, async t => {
  const url = await emptyPostgresDatabase(t)
  const opened = await Promise.all(Array.from({ length: 5 }, () => openPostgres({ url, poolMax: 1, connectTimeoutMs: 30_000 })))
  t.teardown(() => Promise.all(opened.map(closePostgres)))

  const db = rawDatabase(t, url)
  const applied = await db.query<{ hash: string }>('SELECT hash FROM drizzle.__drizzle_migrations ORDER BY id')
  t.equal(applied.length, journal.entries.length, 'one row per migration')
  t.equal(new Set(applied.map(row => row.hash)).size, applied.length, 'no migration twice')
  const permissions = await db.query<{ codename: string }>('SELECT codename FROM permissions ORDER BY codename')
  t.same(permissions.map(row => row.codename), BUILT_IN, 'the built-in permissions, seeded once')
  const [counters] = await db.query<{ relpersistence: string }>("SELECT relpersistence FROM pg_class WHERE relname = 'attempt_counters'")
  t.equal(counters.relpersistence, 'u', 'attempt_counters is UNLOGGED')
  const [events] = await db.query<{ relpersistence: string }>("SELECT relpersistence FROM pg_class WHERE relname = 'revocation_events'")
  t.equal(events.relpersistence, 'p', 'everything else is logged')
})

t.test('portcullis migrate migrates an empty PostgreSQL database, then finds it up to date', needsServer, async t => {
  const url = await emptyPostgresDatabase(t)
  const where = `${new URL(url).host}${new URL(url).pathname}`
  const first = await portcullis(['migrate'], { DATABASE_URL: url })
  t.equal(first.code, 0, first.stderr)
  t.equal(first.stdout, `Database ${where} is up to date.\n`)
  const again = await portcullis(['migrate'], { DATABASE_URL: url })
  t.equal(again.code, 0, again.stderr)

  const db = rawDatabase(t, url)
  t.equal((await db.query('SELECT hash FROM drizzle.__drizzle_migrations')).length, journal.entries.length)
  const tables = (await db.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).map(row => row.tablename)
  for (const table of ['users', 'sessions', 'refresh_tokens', 'signing_keys', 'one_time_tokens', 'attempt_counters', 'background_jobs']) t.ok(tables.includes(table), table)
})
