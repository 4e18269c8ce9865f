// Copies every row of a SQLite database into an empty PostgreSQL one: the move from the embedded
// database to a shared one, with nothing lost (nobody is logged out, no issued token or mailed link dies).
import { getTableColumns, getTableName, is, sql } from 'drizzle-orm'
import { PgTable } from 'drizzle-orm/pg-core'
import { SQLiteTable } from 'drizzle-orm/sqlite-core'
import { pgError, type PgDb, type PgTx } from './postgres/database.js'
import * as postgresSchema from './postgres/schema.js'
import type { SqliteDb } from './sqlite/connection.js'
import * as sqliteSchema from './sqlite/schema.js'

/** Every table that is copied, parents before children (the foreign keys hold after each insert). */
export const COPY_ORDER = [
  'users',
  'permissions',
  'groups',
  'group_permissions',
  'user_groups',
  'user_permissions',
  'sessions',
  'refresh_tokens',
  'signing_keys',
  'key_settings',
  'one_time_tokens',
  'social_accounts',
  'social_login_states',
  'mfa_totp',
  'mfa_recovery_codes',
  'mfa_challenges',
  'passkeys',
  'django_refresh_tokens',
  'service_clients',
  'revocation_events',
  'revoked_client_tokens',
  'background_jobs',
  'audit_events',
  'audit_head',
  'audit_checkpoints',
  'webhooks',
  'webhook_deliveries'
] as const

/** PostgreSQL tables SQLite has no counterpart of, and why there is nothing to copy into them. */
export const NOT_COPIED: Record<string, string> = {
  attempt_counters: 'a single SQLite instance counts attempts in memory'
}

/** Rows per INSERT unless told otherwise: a large user base never becomes one giant statement. */
export const DEFAULT_BATCH_SIZE = 500
/** PostgreSQL's limit on the parameters of one statement. */
const MAX_PARAMETERS = 65_535

export interface TableCount {
  table: string
  /** Rows in SQLite (in the snapshot that was copied). */
  source: number
  /** Rows in PostgreSQL after the copy, before commit. */
  target: number
}

/** The target holds data already: nothing was written. */
export class TargetNotEmptyError extends Error {
  constructor (readonly tables: string[]) {
    super(`The target database is not empty: ${tables.join(', ')} ${tables.length === 1 ? 'holds' : 'hold'} rows.`)
    this.name = 'TargetNotEmptyError'
  }
}

/** A table's row count differs after the copy: the transaction was rolled back, nothing was written. */
export class CountMismatchError extends Error {
  constructor (readonly counts: TableCount[]) {
    const differing = counts.filter(count => count.source !== count.target).map(count => count.table)
    super(`Row counts differ after the copy (${differing.join(', ')}); nothing was written.`)
    this.name = 'CountMismatchError'
  }
}

/**
 * PostgreSQL refused a table's rows: the transaction was rolled back, nothing was written. The
 * message is PostgreSQL's own, without the statement: its parameters are the rows (password hashes,
 * private keys), which must not end up on a terminal or in a log.
 */
export class CopyFailedError extends Error {
  constructor (readonly table: string, cause: unknown) {
    const reason = (pgError(cause) as { message?: string } | undefined)?.message ?? 'the insert failed'
    super(`Copying ${table} failed, nothing was written: ${reason}`, { cause })
    this.name = 'CopyFailedError'
  }
}

interface TablePair {
  name: string
  source: SQLiteTable
  target: PgTable
  /** The column keys (camelCase) both tables have. */
  columns: string[]
}

function sqliteTables (): Map<string, SQLiteTable> {
  const tables = (Object.values(sqliteSchema) as unknown[]).filter((value): value is SQLiteTable => is(value, SQLiteTable))
  return new Map(tables.map(table => [getTableName(table), table]))
}

function postgresTables (): Map<string, PgTable> {
  const tables = (Object.values(postgresSchema) as unknown[]).filter((value): value is PgTable => is(value, PgTable))
  return new Map(tables.map(table => [getTableName(table), table]))
}

/**
 * The tables to copy, paired by name, in COPY_ORDER. Throws when the schemas have drifted apart (a
 * table or a column one database has and the other not, or a table missing from COPY_ORDER): a
 * copy that silently skipped data would be worse than none.
 */
export function copyPlan (): TablePair[] {
  const sources = sqliteTables()
  const targets = postgresTables()
  const listed = new Set<string>(COPY_ORDER)
  for (const name of sources.keys()) {
    if (!listed.has(name)) throw new Error(`SQLite table ${name} is not in the copy order (db/copy.ts)`)
  }
  for (const name of targets.keys()) {
    if (!listed.has(name) && !(name in NOT_COPIED)) throw new Error(`PostgreSQL table ${name} is neither copied nor listed as not copied (db/copy.ts)`)
  }
  return COPY_ORDER.map(name => {
    const source = sources.get(name)
    const target = targets.get(name)
    if (source === undefined || target === undefined) throw new Error(`Table ${name} is missing from the ${source === undefined ? 'SQLite' : 'PostgreSQL'} schema`)
    const columns = Object.keys(getTableColumns(source)).sort()
    const targetColumns = Object.keys(getTableColumns(target)).sort()
    if (columns.join() !== targetColumns.join()) {
      throw new Error(`Table ${name} has other columns in SQLite (${columns.join(', ')}) than in PostgreSQL (${targetColumns.join(', ')})`)
    }
    return { name, source, target, columns }
  })
}

export interface CopyOptions {
  /** Rows per INSERT (fewer for a table with many columns, to stay within PostgreSQL's parameter limit). */
  batchSize?: number
  /** Told after each table is copied. */
  onTable?: (table: string, rows: number) => void
}

/**
 * Copies every table of `source` into `target` (migrated, empty) in one PostgreSQL transaction: all
 * or nothing. The source is read in one snapshot (a SQLite read transaction), so the copy is
 * consistent even if a server is still writing; what it writes after the snapshot is not copied.
 * Refuses (TargetNotEmptyError) a target with any row besides the built-in permissions its
 * migrations create; compares each table's row count before committing (CountMismatchError, after
 * a rollback). Returns the counts.
 */
export async function copySqliteToPostgres (source: SqliteDb, target: PgDb, options: CopyOptions = {}): Promise<TableCount[]> {
  const plan = copyPlan()
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE
  const client = source.$client
  // Deferred: the snapshot is taken at the first read and held until the end.
  client.exec('BEGIN')
  try {
    return await target.transaction(async tx => {
      await lockTargetTables(tx)
      await assertEmpty(tx, source)
      const counts: TableCount[] = []
      for (const table of plan) {
        const copied = await copyTable(source, tx, table, batchSize)
        options.onTable?.(table.name, copied)
      }
      await continueRevocationSequence(source, tx)
      for (const table of plan) {
        const [{ n: sourceRows }] = client.prepare<[], { n: number }>(`SELECT count(*) AS n FROM "${table.name}"`).all()
        const { rows } = await tx.execute<{ n: string }>(sql`SELECT count(*) AS n FROM ${table.target}`)
        counts.push({ table: table.name, source: sourceRows, target: Number(rows[0].n) })
      }
      // Thrown inside the transaction, so that it rolls back.
      if (counts.some(count => count.source !== count.target)) throw new CountMismatchError(counts)
      return counts
    })
  } finally {
    client.exec('COMMIT')
  }
}

/**
 * Writers (a server started on the target too early, a second copy) wait until the copy has
 * committed, and then find it done; readers are not blocked.
 */
async function lockTargetTables (tx: PgTx): Promise<void> {
  const names = [...postgresTables().keys()].sort()
  await tx.execute(sql.raw(`LOCK TABLE ${names.map(name => `"${name}"`).join(', ')} IN EXCLUSIVE MODE`))
}

/**
 * Empty: no row in any table, except the permissions. The target's migrations seed the built-in
 * permissions, which SQLite's migrations seeded too, so a permission counts as data only when the
 * source does not have it: the copy then overwrites the seeded rows with the source's.
 */
async function assertEmpty (tx: PgTx, source: SqliteDb): Promise<void> {
  const holding: string[] = []
  for (const [name, table] of postgresTables()) {
    if (name === 'permissions') continue
    const { rows } = await tx.execute<{ found: boolean }>(sql`SELECT EXISTS (SELECT 1 FROM ${table}) AS found`)
    if (rows[0].found) holding.push(name)
  }
  const known = new Set(source.select({ codename: sqliteSchema.permissions.codename }).from(sqliteSchema.permissions).all().map(row => row.codename))
  const seeded = await tx.select({ codename: postgresSchema.permissions.codename }).from(postgresSchema.permissions)
  if (seeded.some(row => !known.has(row.codename))) holding.push('permissions')
  if (holding.length > 0) throw new TargetNotEmptyError(holding.sort())
}

/** The key the rowid is read under, beside the columns. */
const ROWID = '__rowid'

/** Copies one table in batches, in rowid order (every table here has one); returns the rows copied. */
async function copyTable (source: SqliteDb, tx: PgTx, table: TablePair, batchSize: number): Promise<number> {
  const perStatement = Math.max(1, Math.min(batchSize, Math.floor(MAX_PARAMETERS / table.columns.length)))
  const fields = { ...getTableColumns(table.source), [ROWID]: sql<number>`rowid` }
  let after = 0
  let copied = 0
  for (;;) {
    const rows = source.select(fields).from(table.source).where(sql`rowid > ${after}`).orderBy(sql`rowid`).limit(perStatement).all() as Array<Record<string, unknown>>
    if (rows.length === 0) return copied
    after = rows[rows.length - 1][ROWID] as number
    const values = rows.map(({ [ROWID]: _rowid, ...row }) => row)
    const insert = tx.insert(table.target).values(values as never)
    try {
      if (table.name === 'permissions') {
        // The built-in permissions the target's migrations seeded become the source's rows.
        await insert.onConflictDoUpdate({
          target: postgresSchema.permissions.codename,
          set: { description: sql`excluded.description`, createdAt: sql`excluded.created_at` }
        })
      } else {
        await insert
      }
    } catch (err) {
      throw new CopyFailedError(table.name, err)
    }
    copied += rows.length
  }
}

/**
 * The feed's cursor continues where SQLite's would have: past every seq SQLite ever handed out (its
 * AUTOINCREMENT high-water mark, which outlives pruned events), so that a verifier following the
 * feed with an old cursor misses no new event.
 */
async function continueRevocationSequence (source: SqliteDb, tx: PgTx): Promise<void> {
  const client = source.$client
  const [{ high }] = client.prepare<[], { high: number | null }>(
    `SELECT max(coalesce((SELECT max(seq) FROM revocation_events), 0),
                coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'revocation_events'), 0)) AS high`).all()
  const last = high ?? 0
  // is_called false at 1: the next event is seq 1; otherwise the next is last + 1.
  await tx.execute(sql`SELECT setval(pg_get_serial_sequence('revocation_events', 'seq'), ${Math.max(last, 1)}, ${last > 0})`)
}
