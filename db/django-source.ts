// Reads a Django database (SQLite file or PostgreSQL), read-only, for `import-django`.
import { existsSync } from 'node:fs'
import Database from 'better-sqlite3'
import pg from 'pg'
import { databaseKind } from './database-url.js'

export interface DjangoSource {
  /** Every row of a query with no parameters (the caller quotes identifiers). */
  rows (query: string): Promise<Array<Record<string, unknown>>>
  /** A table's column names; empty when there is no such table. */
  columns (table: string): Promise<string[]>
  close (): Promise<void>
}

export class DjangoSourceError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'DjangoSourceError'
  }
}

/** Opens the Django database `from` names: a `postgres://` URL, or the path of a SQLite file (never created). */
export async function openDjangoSource (from: string): Promise<DjangoSource> {
  if (databaseKind(from) === 'postgres') {
    const client = new pg.Client({ connectionString: from })
    try {
      await client.connect()
      // Nothing this import does writes to the Django database.
      await client.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY')
    } catch (err) {
      await client.end().catch(() => {})
      throw new DjangoSourceError(`Cannot read the Django database: ${(err as Error).message}`)
    }
    return {
      async rows (query) {
        return (await client.query(query)).rows
      },
      async columns (table) {
        const { rows } = await client.query<{ column_name: string }>(
          'SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND table_schema = current_schema() ORDER BY ordinal_position', [table])
        return rows.map(row => row.column_name)
      },
      async close () {
        await client.end()
      }
    }
  }
  const path = from.startsWith('file:') ? from.slice('file:'.length) : from
  if (!existsSync(path)) throw new DjangoSourceError(`There is no Django database at ${path}.`)
  let db: Database.Database
  try {
    db = new Database(path, { readonly: true, fileMustExist: true })
    db.prepare('SELECT 1 FROM sqlite_master LIMIT 1').get()
  } catch (err) {
    throw new DjangoSourceError(`Cannot read the Django database at ${path}: ${(err as Error).message}`)
  }
  return {
    async rows (query) {
      return db.prepare(query).all() as Array<Record<string, unknown>>
    },
    async columns (table) {
      return (db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as Array<{ name: string }>).map(row => row.name)
    },
    async close () {
      db.close()
    }
  }
}
