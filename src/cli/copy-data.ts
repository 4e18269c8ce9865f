// `copy-data`: move from SQLite to PostgreSQL, copying every row of DATABASE_URL into an empty database.
import { existsSync } from 'node:fs'
import { databaseKind, describePostgresUrl } from '../../db/database-url.js'
import { CliError, parseCommandLine, UsageError, type Command } from './command.js'

export const DEFAULT_BATCH_SIZE = 500

export const copyData: Command = {
  name: 'copy-data',
  summary: 'Copy everything from the SQLite database into an empty PostgreSQL database.',
  help: `Usage: portcullis copy-data --to <postgres url> [--batch-size <n>]

Copies every row of the SQLite database DATABASE_URL names into the PostgreSQL database <postgres
url>: users with their password hashes and every flag, groups and permissions, sessions and refresh
tokens (nobody is logged out), signing keys (issued access tokens stay valid), service clients,
social links and pending social logins, verification and reset links already mailed, the revocation
feed (its cursor continues where it was) and revoked client tokens.

The target is migrated first, then must be empty: apart from the built-in permissions its
migrations create, any row in any of its tables refuses the copy and nothing is written. The copy
is one transaction (all or nothing) from one consistent snapshot of SQLite; writes made after the
snapshot are not copied, so stop the servers first. Afterwards each table's row count is compared
with SQLite's before the transaction commits.

Then point DATABASE_URL at the PostgreSQL database and start the servers.

Options:
  --to <url>         The target: postgres://user:password@host:5432/database (or postgresql://).
  --batch-size <n>   Rows per INSERT statement, 1 to 10000 (default ${DEFAULT_BATCH_SIZE}).
  -h, --help         Show this help.

Exit status: 0 when every table was copied and its count matches; 1 when DATABASE_URL is not a
SQLite file, --to is not a PostgreSQL URL, the target is not empty, PostgreSQL cannot be reached
within DATABASE_CONNECT_TIMEOUT, or a count differs (nothing is written then); 66 when the
SQLite database DATABASE_URL names does not exist; 78 when the configuration is not valid.
`,
  async run (args, cli) {
    const { values } = parseCommandLine(args, { to: { type: 'string' }, 'batch-size': { type: 'string' } })
    const to = values.to
    if (to === undefined) throw new UsageError('Missing --to <postgres url>.')
    // The URL may hold a password: messages name host, port and database only.
    if (databaseKind(to) !== 'postgres') throw new UsageError('--to must be a PostgreSQL URL (postgres://… or postgresql://…).')
    const raw = values['batch-size']
    const batchSize = raw === undefined ? DEFAULT_BATCH_SIZE : /^\d+$/.test(raw) ? Number(raw) : NaN
    if (!(batchSize >= 1 && batchSize <= 10_000)) throw new UsageError(`--batch-size must be a whole number from 1 to 10000; got "${raw}".`)

    const config = await cli.config()
    if (databaseKind(config.databaseUrl) !== 'sqlite') {
      throw new CliError('copy-data copies from SQLite: DATABASE_URL must name the SQLite file (file:<path>) to copy from.')
    }
    if (config.databaseUrl === ':memory:') throw new CliError('DATABASE_URL is :memory:, which holds nothing to copy; name the SQLite file (file:<path>).')

    // Loaded here, not at the top: `portcullis --help` should not wait for the database drivers.
    const { openDatabase, databasePath } = await import('../../db/sqlite/index.js')
    const { openPostgres, closePostgres } = await import('../../db/postgres/connection.js')
    const { copySqliteToPostgres, CountMismatchError, TargetNotEmptyError } = await import('../../db/copy.js')

    const path = databasePath(config.databaseUrl)
    // Opening would create an empty database: a mistyped path must not "copy" nothing successfully.
    if (!existsSync(path)) throw new CliError(`There is no SQLite database at ${path} (DATABASE_URL).`, 66)
    const target = describePostgresUrl(to)
    const source = openDatabase(config.databaseUrl)
    try {
      const db = await openPostgres({
        url: to,
        poolMax: 1,
        connectTimeoutMs: config.databaseConnectTimeout * 1000,
        warn: line => cli.stderr.write(`${line}\n`)
      })
      try {
        const counts = await copySqliteToPostgres(source, db, { batchSize })
        cli.stdout.write(`Copied ${path} to ${target}:\n${summary(counts)}\nEvery table's row count matches. Set DATABASE_URL to the PostgreSQL URL and start the servers.\n`)
      } catch (err) {
        if (err instanceof TargetNotEmptyError) {
          throw new CliError(`${target} is not empty (${err.tables.join(', ')}); copy-data only fills an empty database. Nothing was written.`)
        }
        if (err instanceof CountMismatchError) {
          cli.stdout.write(`${summary(err.counts)}\n`)
          const differing = err.counts.filter(count => count.source !== count.target).map(count => count.table)
          throw new CliError(`Row counts differ after the copy (${differing.join(', ')}): it was rolled back, nothing was written to ${target}.`)
        }
        throw err
      } finally {
        await closePostgres(db)
      }
    } finally {
      source.$client.close()
    }
  }
}

/** One line per table: its rows in SQLite and in PostgreSQL, marked when they differ. */
function summary (counts: Array<{ table: string, source: number, target: number }>): string {
  const width = Math.max(...counts.map(count => count.table.length))
  const lines = counts.map(count => {
    const mark = count.source === count.target ? '' : `  DIFFERS: ${count.target} in PostgreSQL`
    return `  ${count.table.padEnd(width)}  ${String(count.source).padStart(8)} ${count.source === 1 ? 'row' : 'rows'}${mark}`
  })
  return lines.join('\n')
}
