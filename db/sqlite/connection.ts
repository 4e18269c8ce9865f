// Opens the SQLite database with durable settings and applies the committed migrations.
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import * as schema from './schema.js'

export type SqliteDb = BetterSQLite3Database<typeof schema> & { $client: Database.Database }

// The build copies db/sqlite/migrations next to the compiled file, so this resolves in both trees.
const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url))

/** `file:<path>` or `:memory:` to a path better-sqlite3 understands. */
export function databasePath (databaseUrl: string): string {
  return databaseUrl === ':memory:' ? ':memory:' : resolve(databaseUrl.slice('file:'.length))
}

export function openDatabase (databaseUrl: string): SqliteDb {
  const path = databasePath(databaseUrl)
  if (path !== ':memory:') {
    // Owner-only: the database holds password hashes and the signing key.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  }
  const client = new Database(path)
  try {
    if (path !== ':memory:') client.pragma('journal_mode = WAL')
    // FULL syncs the WAL on every commit: an acknowledged write survives a crash or power loss.
    client.pragma('synchronous = FULL')
    client.pragma('busy_timeout = 5000')
    client.pragma('foreign_keys = ON')
    const db = drizzle({ client, schema, casing: 'snake_case' })
    migrate(db, { migrationsFolder })
    return db
  } catch (err) {
    client.close()
    throw err
  }
}
