// Opens PostgreSQL: reaches the server with retries at start-up, applies the committed migrations
// once however many instances start together, and hands out a pool that survives a server restart.
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { drizzle } from 'drizzle-orm/node-postgres'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import { describePostgresUrl, postgresPassword } from '../database-url.js'
import { DatabaseMissingError } from '../missing.js'
import { advisoryLocks, type PgDb } from './database.js'
import * as schema from './schema.js'

// The build copies db/postgres/migrations next to the compiled file, so this resolves in both trees.
const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url))

const FIRST_RETRY_MS = 100
const LONGEST_RETRY_MS = 2_000
/** One attempt's connect timeout: a blackholed host must not eat the whole budget in one try. */
const LONGEST_ATTEMPT_MS = 10_000

export interface PostgresOptions {
  /** `postgres://` or `postgresql://`, as node-postgres reads it (sslmode and friends included). */
  url: string
  /** The most connections the pool opens. */
  poolMax: number
  /** How long start-up keeps trying to reach the server before giving up; also the pool's connect timeout. */
  connectTimeoutMs: number
  /** Told of each failed attempt while start-up retries, and of connections that die later. Never sees the password. */
  warn?: (message: string) => void
  /** Refuse a database that was never migrated (the CLI): DatabaseMissingError instead of creating the tables. */
  mustExist?: boolean
}

/** The server could not be reached (or refused us) at start-up. The message names host, port and database only. */
export class DatabaseUnavailableError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'DatabaseUnavailableError'
  }
}

/** Connects (retrying), migrates under the migrations lock, and returns the pooled handle. Close it with `closePostgres`. */
export async function openPostgres (options: PostgresOptions): Promise<PgDb> {
  const client = await connectWithRetry(options)
  try {
    if (options.mustExist === true) {
      const { rows } = await client.query<{ found: string | null }>("SELECT to_regclass('drizzle.__drizzle_migrations') AS found")
      if (rows[0]?.found == null) throw new DatabaseMissingError(`PostgreSQL database ${describePostgresUrl(options.url)} has no Portcullis tables (never migrated)`)
    }
    await migrateOnce(client)
  } finally {
    // Ending the session also releases the advisory lock if the migration failed half-way.
    await client.end().catch(() => {})
  }

  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs,
    keepAlive: true
  })
  // An idle connection that dies (PostgreSQL restarted, a proxy timed out) is an 'error' on the
  // pool; unhandled, it would crash the process. The pool drops it and opens another on demand.
  pool.on('error', err => options.warn?.(`An idle PostgreSQL connection to ${describePostgresUrl(options.url)} failed and was dropped: ${scrub(err, options.url)}`))
  // A connection that dies while checked out between two queries emits 'error' on the client itself,
  // where pg-pool listens only while it is idle. The next query fails with the cause and the
  // connection, no longer queryable, is discarded on release; the event itself must not crash us.
  pool.on('connect', connection => { connection.on('error', () => {}) })
  return drizzle({ client: pool, schema, casing: 'snake_case' })
}

export async function closePostgres (db: PgDb): Promise<void> {
  await db.$client.end()
}

/**
 * A dedicated connection for the migrations, retried with exponential backoff while the server is
 * unreachable or starting up (a database container that comes up after the service), for at most
 * `connectTimeoutMs`. A refusal that waiting cannot fix (authentication, no such database) fails at once.
 */
async function connectWithRetry (options: PostgresOptions): Promise<pg.Client> {
  const where = describePostgresUrl(options.url)
  const deadline = Date.now() + options.connectTimeoutMs
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - Date.now()
    const client = new pg.Client({
      connectionString: options.url,
      connectionTimeoutMillis: Math.max(1, Math.min(remaining, LONGEST_ATTEMPT_MS))
    })
    // Errors after a failed connect (a late socket error) must not crash the process.
    client.on('error', () => {})
    try {
      await client.connect()
      return client
    } catch (err) {
      const cause = scrub(err, options.url)
      if (!isTransient(err)) throw new DatabaseUnavailableError(`PostgreSQL at ${where} refused the connection: ${cause}`)
      const wait = Math.min(FIRST_RETRY_MS * 2 ** (attempt - 1), LONGEST_RETRY_MS)
      if (Date.now() + wait >= deadline) {
        const seconds = Math.round(options.connectTimeoutMs / 100) / 10
        throw new DatabaseUnavailableError(`PostgreSQL at ${where} could not be reached within ${seconds}s (${attempt} attempts): ${cause}`)
      }
      options.warn?.(`PostgreSQL at ${where} is not reachable yet (${cause}); retrying in ${wait} ms`)
      await delay(wait)
    }
  }
}

/**
 * Network failures and a server starting up or shutting down (SQLSTATE class 57, too many
 * connections) may pass; an error the server answered otherwise (bad password, unknown database,
 * missing privilege) will not.
 */
function isTransient (err: unknown): boolean {
  if (!(err instanceof pg.DatabaseError)) return true
  return err.code?.startsWith('57') === true || err.code === '53300'
}

/**
 * Applies pending migrations under a session-level advisory lock: instances starting together wait
 * for the first one, then find nothing left to do (drizzle's migrator alone would race on its own
 * bookkeeping table and apply the same migration twice).
 */
async function migrateOnce (client: pg.Client): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1)', [advisoryLocks.migrations])
  await migrate(drizzle({ client, casing: 'snake_case' }), { migrationsFolder })
  await client.query('SELECT pg_advisory_unlock($1)', [advisoryLocks.migrations])
}

/** An error's message with the URL's password blanked out, should a driver ever echo it. */
function scrub (err: unknown, url: string): string {
  const message = err instanceof Error ? err.message : String(err)
  const password = postgresPassword(url)
  return password === undefined ? message : message.split(password).join('***')
}
