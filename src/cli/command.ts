// What every CLI command is made of: its help text, its argument parsing, its errors and its context.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { AuthDeps } from '../deps.js'
import type { Config } from '../config.js'

/** A failure the operator can act on: the message is printed as it is, the process exits with `exitCode`. */
export class CliError extends Error {
  constructor (message: string, readonly exitCode = 1) {
    super(message)
    this.name = 'CliError'
  }
}

/** Bad arguments: printed with a pointer to the command's --help. */
export class UsageError extends CliError {
  constructor (message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>

export interface InputStream extends NodeJS.ReadableStream {
  isTTY?: boolean
}

/** The process seen by a command: streams and environment, and the domain's dependencies on demand. */
export interface CliContext {
  env: Record<string, string | undefined>
  stdin: InputStream
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  /** The configuration from the environment, as the server reads it (a bad value is exit 78). */
  config (): Promise<Config>
  /** Repositories, hasher and clock on DATABASE_URL: opened on first use, closed when the command ends. */
  deps (): Promise<AuthDeps>
}

export interface Command {
  name: string
  /** One line for `portcullis --help`. */
  summary: string
  /** The whole `--help` text. */
  help: string
  run (args: string[], cli: CliContext): Promise<void>
}

/**
 * parseArgs, strict, with named positionals: `required` must all be there, `optional` may follow,
 * anything more is an error unless `rest` allows it. Unknown options are refused by parseArgs itself.
 */
export function parseCommandLine<O extends ParseArgsOptionsConfig> (
  args: string[],
  options: O,
  positionals: { required?: string[], optional?: string[], rest?: boolean } = {}
) {
  let parsed
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (err) {
    // parseArgs's own messages name the option ("Unknown option '--force'") but suggest `--`, which is no help here.
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, '.'))
    }
    throw err
  }
  const required = positionals.required ?? []
  const optional = positionals.optional ?? []
  const missing = required.slice(parsed.positionals.length)
  if (missing.length > 0) throw new UsageError(`Missing ${missing.map(name => `<${name}>`).join(' ')}.`)
  const extra = parsed.positionals.slice(required.length + optional.length)
  if (extra.length > 0 && positionals.rest !== true) throw new UsageError(`Unexpected argument${extra.length > 1 ? 's' : ''}: ${extra.join(' ')}.`)
  return parsed
}

/** Whether the arguments ask for help: `-h` or `--help` anywhere before a `--`. */
export function wantsHelp (args: string[]): boolean {
  const end = args.indexOf('--')
  const options = end === -1 ? args : args.slice(0, end)
  return options.includes('--help') || options.includes('-h')
}

/** Singular or plural: `plural(2, 'session')` is "2 sessions". */
export function plural (count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
