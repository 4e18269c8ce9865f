// The operator CLI (`portcullis <command>`), on the same DATABASE_URL as the server: dispatch and exit
// codes. The process is only main.ts's concern: this runs on whatever streams and environment it is
// given, so that tests run commands in their own process.
import { readFileSync } from 'node:fs'
import type { Config } from '../config.js'
import { ProblemError } from '../errors.js'
import { runWithAuditContext } from '../audit/events.js'
import { audit } from './audit.js'
import { ban, unban } from './ban.js'
import { createClientCommand, deleteClientCommand, listClientsCommand } from './clients.js'
import { CliError, UsageError, wantsHelp, type CliContext, type Command, type InputStream } from './command.js'
import { copyData } from './copy-data.js'
import { createSuperuser, createUser } from './create-user.js'
import type { CliDeps } from './deps.js'
import { addToGroup, removeFromGroup } from './groups.js'
import { importDjangoCommand } from './import-django.js'
import { keys } from './keys.js'
import { listUsersCommand } from './list-users.js'
import { migrate } from './migrate.js'
import { mfaReset } from './mfa-reset.js'
import { grant, revoke } from './permissions.js'
import { pruneTokens } from './prune-tokens.js'
import { setPasswordCommand } from './set-password.js'
import { webhooks } from './webhooks.js'

const commands: Command[] = [
  migrate,
  createSuperuser,
  createUser,
  setPasswordCommand,
  grant,
  revoke,
  addToGroup,
  removeFromGroup,
  ban,
  unban,
  mfaReset,
  listUsersCommand,
  createClientCommand,
  listClientsCommand,
  deleteClientCommand,
  pruneTokens,
  keys,
  audit,
  webhooks,
  copyData,
  importDjangoCommand
]

const width = Math.max(...commands.map(command => command.name.length))

const USAGE = `Usage: portcullis <command> [options]

Commands:
${commands.map(command => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n')}

Users are named by email address or username. Every command has its own help:
portcullis <command> --help (or portcullis help <command>).

Options:
  -h, --help  Show this help.

Configuration comes from the environment, as for the server (DATABASE_URL, BCRYPT_COST, ...;
see README).

Every command but migrate works only on a database that exists (it never creates one), and
writes the one it uses to stderr ("Database: <path>").

Exit status: 0 on success; 1 on an error (a message on stderr says which); 2 for a missing or
unknown command; 66 when the database does not exist (or, on PostgreSQL, was never migrated);
78 when the configuration is not valid; 130 when a prompt is cancelled.`

/** A domain error in words: its detail, and its field errors when the detail is only "not valid". */
function problemMessage (err: ProblemError): string {
  const fields = (err.errors ?? []).filter(e => !err.message.includes(e.message))
  return [err.message, ...fields.map(e => `  ${e.field}: ${e.message}`)].join('\n')
}

function failure (err: unknown, command: string): { message: string, exitCode: number } {
  // By name: the config module is loaded only by commands that read the configuration.
  if (err instanceof Error && err.name === 'ConfigError') return { message: err.message, exitCode: 78 }
  if (err instanceof Error && err.name === 'DatabaseMissingError') {
    return { message: `${err.message}. Set DATABASE_URL to the server's database (a relative file: path is taken from the current directory), or create it with "portcullis migrate".`, exitCode: 66 }
  }
  if (err instanceof UsageError) return { message: `${err.message}\nRun "portcullis ${command} --help" for usage.`, exitCode: err.exitCode }
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode }
  if (err instanceof ProblemError) return { message: problemMessage(err), exitCode: 1 }
  return { message: (err as Error).message ?? String(err), exitCode: 1 }
}

/** What a run of the CLI sees of its process. */
export interface CliIo {
  env: Record<string, string | undefined>
  /** Read only by a command that prompts (a getter, so that process.stdin is not opened otherwise). */
  readonly stdin: InputStream
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
}

/** Runs `portcullis ...argv`: its exit status. */
export async function runCli (argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined || name === '-h' || name === '--help' || (name === 'help' && args.length === 0)) {
    io.stdout.write(`${USAGE}\n`)
    return name === undefined ? 2 : 0
  }
  const wanted = name === 'help' ? args[0] : name
  const command = commands.find(c => c.name === wanted)
  if (command === undefined) {
    io.stderr.write(`Unknown command "${wanted}".\n\n${USAGE}\n`)
    return 2
  }
  if (name === 'help' || wantsHelp(args)) {
    io.stdout.write(command.help)
    return 0
  }

  // The configuration, the database driver and the hashing pool are loaded on first use only, so
  // that help and usage errors answer at once.
  let config: Config | undefined
  let opened: CliDeps | undefined
  const cli: CliContext = {
    env: io.env,
    get stdin () { return io.stdin },
    stdout: io.stdout,
    stderr: io.stderr,
    async config () {
      const { loadConfig } = await import('../config.js')
      // The same configuration as the server's, key file included (the CLI never uses the key).
      config ??= loadConfig(io.env, { readFile: path => readFileSync(path, 'utf8') })
      return config
    },
    async deps () {
      if (opened === undefined) {
        const loaded = await cli.config()
        const { openCliDeps } = await import('./deps.js')
        opened ??= await openCliDeps(loaded, line => io.stderr.write(`${line}\n`))
        io.stderr.write(`Database: ${opened.location}\n`)
      }
      return opened.deps
    }
  }
  try {
    // Every event a command records names the CLI operator (the OS user, when the environment says).
    const operator = io.env.USER ?? io.env.LOGNAME ?? null
    await runWithAuditContext({ actorType: 'cli', actorId: operator, ip: null, userAgent: `portcullis ${command.name}`, requestId: null }, () => command.run(args, cli))
    return 0
  } catch (err) {
    const { message, exitCode } = failure(err, command.name)
    io.stderr.write(`portcullis ${command.name}: ${message}\n`)
    return exitCode
  } finally {
    await opened?.close()
  }
}
