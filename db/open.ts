// Opens the database DATABASE_URL names, SQLite or PostgreSQL, as the repositories and a close():
// the one place that chooses, for the server and the CLI alike.
import { existsSync } from 'node:fs'
import { databaseKind, describePostgresUrl } from './database-url.js'
import { DatabaseMissingError } from './missing.js'
import type { Repositories } from './repositories.js'

export { DatabaseMissingError } from './missing.js'

export interface StorageOptions {
  /** `postgres://`/`postgresql://` (PostgreSQL), `file:<path>` or `:memory:` (SQLite). */
  url: string
  /** PostgreSQL: the most connections the pool opens. */
  poolMax: number
  /** PostgreSQL: how long start-up retries an unreachable server. */
  connectTimeoutMs: number
  /** PostgreSQL: retries and dropped connections, for the log. */
  warn?: (message: string) => void
  /** SQLite: how long a call waits, without blocking, for another process's write lock (default 2 s). */
  busyTimeoutMs?: number
  /**
   * Refuse a database that is not there yet instead of creating it (the CLI, so that it never acts
   * on a database the server does not read): a missing SQLite file, a PostgreSQL database never migrated.
   */
  mustExist?: boolean
}

export interface Storage {
  kind: 'sqlite' | 'postgres'
  repositories: Repositories
  /** Where the data is, for an operator: the file, or host:port/database (never a password). */
  location: string
  close (): Promise<void>
}

/**
 * Opens the database with its migrations applied. The drivers are loaded on demand: a PostgreSQL
 * deployment never loads the native SQLite module, and an embedded one never loads pg.
 */
export async function openStorage (options: StorageOptions): Promise<Storage> {
  const kind = databaseKind(options.url)
  if (kind === 'postgres') {
    const { openPostgres, closePostgres, postgresRepositories } = await import('./postgres/index.js')
    const db = await openPostgres(options)
    return {
      kind,
      repositories: postgresRepositories(db),
      location: describePostgresUrl(options.url),
      close: () => closePostgres(db)
    }
  }
  if (kind === 'sqlite') {
    const { openDatabase, databasePath, sqliteRepositories } = await import('./sqlite/index.js')
    const path = databasePath(options.url)
    if (options.mustExist === true && (path === ':memory:' || !existsSync(path))) {
      throw new DatabaseMissingError(`SQLite database ${path} does not exist`)
    }
    const db = openDatabase(options.url, { mustExist: options.mustExist })
    return {
      kind,
      repositories: sqliteRepositories(db, options.busyTimeoutMs),
      location: path,
      close: async () => { db.$client.close() }
    }
  }
  // The configuration refuses such a URL first; this guards other callers.
  throw new Error('The database URL must start with postgres://, postgresql:// or file:, or be :memory:')
}
