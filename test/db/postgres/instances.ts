// Several handles on one test database, each with its own pool: what several instances of the
// service look like to PostgreSQL.
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import type { PgDb } from '../../../db/postgres/database.js'
import * as schema from '../../../db/postgres/schema.js'
import { waitUntil } from '../../wait-until.js'

interface Teardown { teardown (fn: () => unknown): void }

/** `count` handles on `db`'s database, their pools ended when the test ends. */
export function instances (t: Teardown, db: PgDb, count: number): PgDb[] {
  const { connectionString } = db.$client.options
  return Array.from({ length: count }, () => {
    const pool = new pg.Pool({ connectionString, max: 10 })
    // The database is dropped WITH (FORCE) at teardown: an idle connection it ends must not crash the run.
    pool.on('error', () => {})
    t.teardown(() => pool.end())
    return drizzle({ client: pool, schema, casing: 'snake_case' })
  })
}

/** Resolves when `count` backends of `db`'s database wait for an advisory lock. */
export async function advisoryWaiters (db: PgDb, count: number): Promise<void> {
  await waitUntil(async () => {
    const { rows } = await db.execute<{ waiting: number }>(sql`SELECT count(*)::int AS waiting FROM pg_stat_activity
                                                               WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`)
    return rows[0].waiting >= count
  }, 10_000, `${count} transactions waiting for an advisory lock`)
}

/** Settles every promise; the outcomes with the errors in place of the values that failed. */
export async function outcomes<T> (promises: Array<Promise<T>>): Promise<Array<T | Error>> {
  const settled = await Promise.allSettled(promises)
  return settled.map(s => s.status === 'fulfilled' ? s.value : s.reason as Error)
}
