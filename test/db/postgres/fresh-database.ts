// A throwaway PostgreSQL database per test, migrated with the committed migrations, dropped at teardown.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import pg from 'pg'
import type { PgDb } from '../../../db/postgres/database.js'
import * as schema from '../../../db/postgres/schema.js'
import { users } from '../../../db/postgres/schema.js'
import { waitUntil } from '../../wait-until.js'

/** The server the test databases are created on: TEST_DATABASE_URL, else the local one. */
export const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres'

const migrationsFolder = fileURLToPath(new URL('../../../db/postgres/migrations', import.meta.url))

export interface Teardown { teardown (fn: () => unknown): void }

function databaseUrl (name: string): string {
  const url = new URL(SERVER_URL)
  url.pathname = `/${name}`
  return url.toString()
}

async function onServer (statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: SERVER_URL })
  await admin.connect()
  try {
    await admin.query(statement)
  } finally {
    await admin.end()
  }
}

/**
 * An empty database (no tables); its URL. `beforeDrop` runs at teardown before the database is
 * dropped (closing the connections the test opened).
 */
export async function emptyDatabase (t: Teardown, beforeDrop: () => Promise<void> = async () => {}): Promise<string> {
  // Named as test/databases.ts names its databases (prefix, pid), so that its sweep drops those a killed test process left behind.
  const name = `portcullis_test_${process.pid}_${randomBytes(4).toString('hex')}`
  await onServer(`CREATE DATABASE "${name}"`)
  t.teardown(async () => {
    await beforeDrop()
    await onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  })
  return databaseUrl(name)
}

/** A handle on a fresh, migrated database, with enough connections for the concurrency tests. */
export async function freshDatabase (t: Teardown): Promise<PgDb> {
  const opened: { pool?: pg.Pool } = {}
  const url = await emptyDatabase(t, async () => { await opened.pool?.end() })
  const pool = opened.pool = new pg.Pool({ connectionString: url, max: 20 })
  // A connection that dies idle (the server restarting) must fail the test that uses it, not crash the run.
  pool.on('error', () => {})
  const db = drizzle({ client: pool, schema, casing: 'snake_case' })
  await migrate(db, { migrationsFolder })
  return db
}

let counter = 0
/** Inserts a user; no password unless given one. */
export async function insertUser (db: PgDb, fields: Partial<typeof users.$inferInsert> = {}): Promise<string> {
  counter += 1
  const id = fields.id ?? `user-${counter}-${randomBytes(4).toString('hex')}`
  const username = fields.username ?? `user${counter}`
  await db.insert(users).values({
    email: `${id}@example.com`,
    passwordHash: null,
    dateJoined: new Date(),
    ...fields,
    id,
    username,
    usernameKey: username.toLowerCase()
  })
  return id
}

/**
 * Holds a row lock, taken by `lockStatement` on a connection of its own, until `release` is called:
 * the concurrent operations of a test queue up behind it, and are let go at once.
 */
export async function holdLock (db: PgDb, lockStatement: string) {
  const client = await db.$client.connect()
  await client.query('BEGIN')
  await client.query(lockStatement)
  return {
    /** Resolves when `count` other backends of this database wait for a lock. */
    async waiters (count: number) {
      await waitUntil(async () => {
        const { rows } = await db.execute<{ waiting: number }>(sql`SELECT count(*)::int AS waiting FROM pg_stat_activity
                                                                   WHERE datname = current_database() AND wait_event_type = 'Lock'`)
        return rows[0].waiting >= count
      }, 10_000, `${count} transactions waiting for the lock`)
    },
    async release () {
      await client.query('COMMIT')
      client.release()
    }
  }
}
