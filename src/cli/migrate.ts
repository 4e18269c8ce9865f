// `migrate`: apply pending migrations to DATABASE_URL.
import { parseCommandLine, type Command } from './command.js'

export const migrate: Command = {
  name: 'migrate',
  summary: 'Apply pending database migrations to DATABASE_URL and exit.',
  help: `Usage: portcullis migrate

Applies every pending migration in db/migrations to DATABASE_URL (creating the database file and
its directory, owner-only, when missing). The server and every other command also migrate on start;
this is for deploy scripts that want it done, and checked, first.

Options:
  -h, --help   Show this help.

Exit status: 0 when the database is up to date; 1 when a migration fails; 78 when the
configuration is not valid.
`,
  async run (args, cli) {
    parseCommandLine(args, {})
    const config = await cli.config()
    // Loaded here, not at the top: `portcullis --help` should not wait for the database driver.
    const { databasePath, openDatabase } = await import('../../db/sqlite/index.js')
    openDatabase(config.databaseUrl).$client.close()
    cli.stdout.write(`Database ${databasePath(config.databaseUrl)} is up to date.\n`)
  }
}
