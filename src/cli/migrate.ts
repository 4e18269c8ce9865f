// `migrate`: apply pending migrations to DATABASE_URL.
import { parseCommandLine, type Command } from './command.js'

export const migrate: Command = {
  name: 'migrate',
  summary: 'Apply pending database migrations to DATABASE_URL and exit.',
  help: `Usage: portcullis migrate

Applies every pending migration to DATABASE_URL: on SQLite (file:<path>) those of db/sqlite/migrations,
creating the database file and its directory, owner-only, when missing; on PostgreSQL (postgres://…)
those of db/postgres/migrations, under an advisory lock, so that instances and deploy jobs starting
together migrate once. The server and every other command also migrate on start; this is for deploy
scripts that want it done, and checked, first.

Options:
  -h, --help   Show this help.

Exit status: 0 when the database is up to date; 1 when a migration fails or PostgreSQL cannot be
reached within DATABASE_CONNECT_TIMEOUT; 78 when the configuration is not valid.
`,
  async run (args, cli) {
    parseCommandLine(args, {})
    const config = await cli.config()
    // Loaded here, not at the top: `portcullis --help` should not wait for the database driver.
    const { openStorage } = await import('../../db/open.js')
    const storage = await openStorage({
      url: config.databaseUrl,
      poolMax: 1,
      connectTimeoutMs: config.databaseConnectTimeout * 1000,
      warn: line => cli.stderr.write(`${line}\n`)
    })
    await storage.close()
    cli.stdout.write(`Database ${storage.location} is up to date.\n`)
  }
}
