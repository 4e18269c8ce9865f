// Opens the database DATABASE_URL names, SQLite or PostgreSQL, as the repositories and a close():
// the one place that chooses, for the server and the CLI alike.
import { databaseKind, describePostgresUrl } from './database-url.js'
import type { Repositories } from './repositories.js'

export interface StorageOptions {
  /** `postgres://`/`postgresql://` (PostgreSQL), `file:<path>` or `:memory:` (SQLite). */
  url: string
  /** PostgreSQL: the most connections the pool opens. */
  poolMax: number
  /** PostgreSQL: how long start-up retries an unreachable server. */
  connectTimeoutMs: number
  /** PostgreSQL: retries and dropped connections, for the log. */
  warn?: (message: string) => void
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
    const db = openDatabase(options.url)
    return {
      kind,
      repositories: sqliteRepositories(db),
      location: databasePath(options.url),
      close: async () => { db.$client.close() }
    }
  }
  // The configuration refuses such a URL first; this guards other callers.
  throw new Error('The database URL must start with postgres://, postgresql:// or file:, or be :memory:')
}
