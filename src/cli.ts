#!/usr/bin/env node
// The operator CLI (`portcullis <command>`), on the same DATABASE_URL as the server.
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from './config.js'
import { databasePath, openDatabase } from '../db/sqlite/index.js'

const USAGE = `Usage: portcullis <command> [options]

Commands:
  migrate     Apply pending database migrations to DATABASE_URL and exit.

Options:
  -h, --help  Show help for a command.

Configuration comes from the environment, as for the server (see README).`

function migrate (args: string[]): number {
  const { values } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, strict: true })
  if (values.help) {
    process.stdout.write('Usage: portcullis migrate\n\nApplies every pending migration in db/migrations to DATABASE_URL.\n')
    return 0
  }
  const config = loadConfig(process.env)
  const db = openDatabase(config.databaseUrl)
  db.$client.close()
  process.stdout.write(`Database ${databasePath(config.databaseUrl)} is up to date.\n`)
  return 0
}

const commands: Record<string, (args: string[]) => number> = { migrate }

function main (argv: string[]): number {
  const [command, ...args] = argv
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return command === undefined ? 2 : 0
  }
  const run = commands[command]
  if (run === undefined) {
    process.stderr.write(`Unknown command "${command}".\n\n${USAGE}\n`)
    return 2
  }
  try {
    return run(args)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      return 78
    }
    process.stderr.write(`${(err as Error).message}\n`)
    return 1
  }
}

process.exitCode = main(process.argv.slice(2))
