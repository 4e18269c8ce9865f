// Opens the SQLite database with durable settings, owner-only files, and the committed migrations applied.
import { chmodSync, existsSync, mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isMainThread } from 'node:worker_threads'
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

/** The database file and the two SQLite keeps beside it in WAL mode. */
export function databaseFiles (path: string): string[] {
  return [path, `${path}-wal`, `${path}-shm`]
}

export interface OpenDatabaseOptions {
  /** Refuse to create the file: it must exist (the CLI, on the server's database). */
  mustExist?: boolean
}

/** Runs `create` with a umask that leaves new files owner-only (umask is per process: not in a worker). */
function ownerOnly<T> (create: () => T): T {
  if (!isMainThread) return create()
  const previous = process.umask(0o077)
  try {
    return create()
  } finally {
    process.umask(previous)
  }
}

/**
 * An empty database as this process's migrations left it, taken the first time an in-memory one is
 * opened: later in-memory databases start from a copy instead of migrating again (18 ms each; the
 * tests open hundreds, development and tests are what use `:memory:`).
 */
let migratedInMemory: Buffer | undefined

export function openDatabase (databaseUrl: string, options: OpenDatabaseOptions = {}): SqliteDb {
  const path = databasePath(databaseUrl)
  const onDisk = path !== ':memory:'
  if (onDisk && options.mustExist !== true) {
    // Owner-only: the database holds password hashes and the signing keys.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  }
  // Security: the files are owner-only whatever the directory and the process umask. New ones are
  // created so (SQLite gives -wal and -shm the database file's mode), and files of an existing
  // database, created before this rule or by another tool, are made so below.
  return ownerOnly(() => {
    const copy = onDisk ? undefined : migratedInMemory
    const client = copy !== undefined ? new Database(copy) : new Database(path, { fileMustExist: options.mustExist === true })
    try {
      if (onDisk) client.pragma('journal_mode = WAL')
      // FULL syncs the WAL on every commit: an acknowledged write survives a crash or power loss.
      client.pragma('synchronous = FULL')
      // Migrations run at start-up, when blocking is harmless: they may wait for another process.
      client.pragma('busy_timeout = 5000')
      client.pragma('foreign_keys = ON')
      const db = drizzle({ client, schema, casing: 'snake_case' })
      if (copy === undefined) migrate(db, { migrationsFolder })
      if (!onDisk) migratedInMemory ??= client.serialize()
      // From here on SQLite never sleeps in this thread waiting for a lock: a busy statement fails
      // at once and the repositories retry it after a timer (busy.ts).
      client.pragma('busy_timeout = 0')
      if (onDisk) for (const file of databaseFiles(path)) if (existsSync(file)) chmodSync(file, 0o600)
      return db
    } catch (err) {
      client.close()
      throw err
    }
  })
}
