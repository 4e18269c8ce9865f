// The database each test runs on: SQLite, or PostgreSQL when TEST_DATABASE_URL names a server where
// the user may CREATE DATABASE. Each app gets a fresh database, copied from a template that is
// migrated once per set of migrations, and dropped when its test ends.
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import type pg from 'pg'
import { databaseKind } from '../db/database-url.js'

interface Teardown { teardown (fn: () => unknown): void }

const serverUrl = process.env.TEST_DATABASE_URL?.trim() || undefined
if (serverUrl !== undefined && databaseKind(serverUrl) !== 'postgres') {
  throw new Error('TEST_DATABASE_URL must be a postgres:// URL of a server where the user may CREATE DATABASE')
}

/** The server the PostgreSQL pass creates its databases on; undefined on the SQLite pass. */
export const TEST_DATABASE_URL = serverUrl
/** Whether this run is the PostgreSQL pass. */
export const ON_POSTGRES = serverUrl !== undefined
/** t.test options for a test about SQLite itself (its file, its connection): skipped on the PostgreSQL pass, saying why. */
export function sqliteOnly (what: string): { skip: string | false } {
  return { skip: ON_POSTGRES && `SQLite only: ${what}` }
}

/** The advisory lock test processes take on the maintenance database while one builds the template. */
const TEMPLATE_LOCK = 7_399_001
const TEST_DATABASE_PREFIX = 'portcullis_test_'
const TEMPLATE_PREFIX = 'portcullis_tpl_'

/**
 * The PostgreSQL driver, loaded on the PostgreSQL pass only: on the SQLite pass nothing needs it, and
 * loading it cost every test process some 0.1 CPU-second.
 */
async function loadPg (): Promise<typeof pg> {
  return (await import('pg')).default
}

let maintenance: Promise<pg.Pool> | undefined
/** Connections to the server's maintenance database (TEST_DATABASE_URL's own), for CREATE and DROP. */
function maintenancePool (): Promise<pg.Pool> {
  // allowExitOnIdle: idle connections must not keep a finished test process alive.
  maintenance ??= loadPg().then(pg => new pg.Pool({ connectionString: serverUrl, max: 2, allowExitOnIdle: true }))
  return maintenance
}

function quoted (name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

function urlOf (database: string): string {
  const url = new URL(serverUrl!)
  url.pathname = `/${database}`
  return url.toString()
}

/** Files of db/postgres/migrations, journal included: another set of migrations gets another template. */
function migrationsHash (): string {
  const root = fileURLToPath(new URL('../db/postgres/migrations/', import.meta.url))
  const hash = createHash('sha256')
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter(entry => entry.isFile())
    .map(entry => join(entry.parentPath, entry.name))
    .sort()
  for (const file of files) hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0')
  return hash.digest('hex').slice(0, 16)
}

/** Runs `statement`, again while PostgreSQL says the source database is still in use by a closing session. */
async function whileInUse (statement: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await (await maintenancePool()).query(statement)
      return
    } catch (err) {
      // 55006 object_in_use: a session of the template that has ended client-side is still exiting.
      if ((err as { code?: string }).code !== '55006' || attempt >= 50) throw err
      await delay(100)
    }
  }
}

let template: Promise<string> | undefined
/**
 * The migrated template, built once per set of migrations under an advisory lock so that parallel
 * test processes neither race to build it nor copy a half-built one (it is built under another name
 * and renamed when complete).
 */
function templateDatabase (): Promise<string> {
  template ??= buildTemplate().catch(err => {
    template = undefined
    throw err
  })
  return template
}

async function buildTemplate (): Promise<string> {
  const name = `${TEMPLATE_PREFIX}${migrationsHash()}`
  const client = await (await maintenancePool()).connect()
  try {
    await client.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK])
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${TEMPLATE_PREFIX}%`])
    if (!rows.some(row => row.datname === name)) {
      const building = `${name}_building`
      await client.query(`DROP DATABASE IF EXISTS ${quoted(building)} WITH (FORCE)`)
      await client.query(`CREATE DATABASE ${quoted(building)}`)
      const { closePostgres, openPostgres } = await import('../db/postgres/connection.js')
      await closePostgres(await openPostgres({ url: urlOf(building), poolMax: 1, connectTimeoutMs: 10_000 }))
      await whileInUse(`ALTER DATABASE ${quoted(building)} RENAME TO ${quoted(name)}`)
    }
    // Templates of older migrations: a process still copying one rebuilds it (createTestDatabase).
    for (const row of rows) {
      if (row.datname !== name) await client.query(`DROP DATABASE IF EXISTS ${quoted(row.datname)}`).catch(() => {})
    }
    await dropOrphans(client)
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK]).catch(() => {})
    client.release()
  }
  return name
}

/** Databases left by test processes that died before their teardown (named after their pid). */
async function dropOrphans (client: pg.PoolClient): Promise<void> {
  const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${TEST_DATABASE_PREFIX}%`])
  for (const { datname } of rows) {
    const pid = Number(datname.slice(TEST_DATABASE_PREFIX.length).split('_')[0])
    if (Number.isInteger(pid) && pid > 0 && !isAlive(pid)) {
      await client.query(`DROP DATABASE IF EXISTS ${quoted(datname)} WITH (FORCE)`).catch(() => {})
    }
  }
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

let created = 0
function newDatabaseName (): string {
  created += 1
  return `${TEST_DATABASE_PREFIX}${process.pid}_${created}_${randomBytes(3).toString('hex')}`
}

function dropAtTeardown (t: Teardown, name: string): void {
  // FORCE: a child process (server, CLI) that the test killed may still hold a connection.
  t.teardown(async () => (await maintenancePool()).query(`DROP DATABASE IF EXISTS ${quoted(name)} WITH (FORCE)`))
}

/** An empty PostgreSQL database (no migrations applied) on TEST_DATABASE_URL's server, dropped at teardown. */
export async function emptyPostgresDatabase (t: Teardown): Promise<string> {
  if (!ON_POSTGRES) throw new Error('emptyPostgresDatabase needs TEST_DATABASE_URL')
  const name = newDatabaseName()
  await (await maintenancePool()).query(`CREATE DATABASE ${quoted(name)}`)
  dropAtTeardown(t, name)
  return urlOf(name)
}

/** A fresh, migrated PostgreSQL database on TEST_DATABASE_URL's server, dropped at the test's teardown. */
async function freshPostgresDatabase (t: Teardown): Promise<string> {
  const name = newDatabaseName()
  try {
    await whileInUse(`CREATE DATABASE ${quoted(name)} TEMPLATE ${quoted(await templateDatabase())}`)
  } catch (err) {
    // 3D000: the template went away (another checkout's tests replaced it): build it again, once.
    if ((err as { code?: string }).code !== '3D000') throw err
    template = undefined
    await whileInUse(`CREATE DATABASE ${quoted(name)} TEMPLATE ${quoted(await templateDatabase())}`)
  }
  dropAtTeardown(t, name)
  return urlOf(name)
}

/**
 * A DATABASE_URL for an app, a child process or the CLI, fresh and removed when the test ends: a
 * temp `file:` database on the SQLite pass, a new database on the PostgreSQL pass.
 */
export async function testDatabaseUrl (t: Teardown): Promise<string> {
  if (ON_POSTGRES) return freshPostgresDatabase(t)
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-db-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return `file:${join(dir, 'portcullis.db')}`
}

/** The database of an app whose test does not name one: in memory on the SQLite pass. */
export async function appDatabaseUrl (t: Teardown): Promise<string> {
  return ON_POSTGRES ? freshPostgresDatabase(t) : ':memory:'
}

export interface RawDatabase {
  /**
   * Rows of a query (`?` placeholders), for what the API does not show. On PostgreSQL the values
   * come back as SQLite returns them (booleans 0/1, times as epoch ms, counts as numbers), so one
   * assertion holds on both.
   */
  query<T> (sql: string, ...params: unknown[]): Promise<T[]>
  /** A write behind the app's back (foreign keys enforced, as the app has them). */
  run (sql: string, ...params: unknown[]): Promise<void>
}

/** A second connection to `databaseUrl` (from testDatabaseUrl), closed when the test ends. */
export function rawDatabase (t: Teardown, databaseUrl: string): RawDatabase {
  if (databaseKind(databaseUrl) === 'postgres') {
    const pool = loadPg().then(pg => {
      const pool = new pg.Pool({
        connectionString: databaseUrl,
        max: 1,
        allowExitOnIdle: true,
        // int8 (count(*), sequences) as a number: test tables are small.
        types: { getTypeParser: (oid: number, format?: string) => oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text') }
      })
      // The database is dropped WITH (FORCE) at teardown, which may run before this pool ends: the
      // idle connection it terminates is expected, not a failure of the test.
      pool.on('error', () => {})
      return pool
    })
    t.teardown(async () => (await pool).end())
    const numbered = (sql: string) => {
      let index = 0
      return sql.replace(/\?/g, () => `$${++index}`)
    }
    return {
      async query<T> (sql: string, ...params: unknown[]): Promise<T[]> {
        const { rows } = await (await pool).query(numbered(sql), params)
        return rows.map(row => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, asSqlite(value)]))) as T[]
      },
      async run (sql, ...params) {
        await (await pool).query(numbered(sql), params)
      }
    }
  }
  let connection: Database.Database | undefined
  const open = () => {
    if (connection === undefined) {
      connection = new Database(databaseUrl.slice('file:'.length))
      connection.pragma('foreign_keys = ON')
    }
    return connection
  }
  t.teardown(() => connection?.close())
  return {
    async query<T> (sql: string, ...params: unknown[]): Promise<T[]> {
      return open().prepare(sql).all(...params) as T[]
    },
    async run (sql, ...params) {
      open().prepare(sql).run(...params)
    }
  }
}

function asSqlite (value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (value instanceof Date) return value.getTime()
  return value
}
