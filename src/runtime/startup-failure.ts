// Why the server could not start, as one line an operator can act on, with the exit code for it.
import { resolve } from 'node:path'
import { ConfigError } from '../config.js'

/** sysexits' EX_CONFIG: the message names the setting (or the path, or the port) to fix. */
export const EXIT_CONFIG = 78
/** PostgreSQL out of reach within DATABASE_CONNECT_TIMEOUT, or anything unexpected. */
export const EXIT_FAILURE = 1

export interface StartupFailure {
  exitCode: number
  /** One line, without the `Portcullis failed to start: ` prefix. */
  message: string
  /** Whether the message is one of ours: an unexpected error's stack helps (with LOG_LEVEL=debug). */
  expected: boolean
}

/** What the server was starting with, for the message: the listen address and the SQLite file. */
export interface StartupContext {
  host?: string
  port?: number
  /** The SQLite file of DATABASE_URL, when SQLite it is. */
  sqlitePath?: string
}

interface SystemError extends Error {
  code?: string
  syscall?: string
  path?: string
}

const FS_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'it is a directory',
  ENOSPC: 'the disk is full',
  SQLITE_CANTOPEN: 'the file cannot be opened or created (permissions, or a missing directory)',
  SQLITE_READONLY: 'it is read-only to this process',
  SQLITE_PERM: 'permission denied',
  SQLITE_NOTADB: 'the file is not a SQLite database',
  SQLITE_CORRUPT: 'the database file is corrupt',
  SQLITE_FULL: 'the disk is full'
}

/** An error of the SQLite file or of the directories on its way (mkdir names the one it failed on). */
function sqliteFileError (err: SystemError, sqlitePath: string): string | undefined {
  const code = err.code ?? ''
  const reason = FS_REASONS[code] ?? (code.startsWith('SQLITE_IOERR') ? 'an I/O error' : undefined)
  if (reason === undefined) return undefined
  const file = resolve(sqlitePath)
  if (code.startsWith('SQLITE_')) return reason
  if (err.path === undefined) return undefined
  const at = resolve(err.path)
  return file === at || file.startsWith(`${at}/`) || at.startsWith(`${file}-`) ? `${reason} (${at})` : undefined
}

export function describeStartupFailure (err: unknown, context: StartupContext = {}): StartupFailure {
  if (err instanceof ConfigError) return { exitCode: EXIT_CONFIG, message: err.message, expected: true }
  const error = (err instanceof Error ? err : new Error(String(err))) as SystemError
  // The database's own messages say where it is (never with the password) and what happened.
  if (error.name === 'DatabaseUnavailableError') return { exitCode: EXIT_FAILURE, message: error.message, expected: true }

  const { host, port } = context
  if (host !== undefined && port !== undefined && (error.syscall === 'listen' || error.syscall === 'getaddrinfo')) {
    const listen: Record<string, string> = {
      EADDRINUSE: `port ${port} on ${host} is already in use: stop the process that holds it, or set PORT to a free port`,
      EADDRNOTAVAIL: `HOST=${host} is not an address of this machine: set HOST to one of its addresses (127.0.0.1; 0.0.0.0 for every interface)`,
      EACCES: `port ${port} needs privileges this process does not have: set PORT to 1024 or above`,
      EPERM: `port ${port} needs privileges this process does not have: set PORT to 1024 or above`,
      ENOTFOUND: `HOST=${host} is not an address or a name that resolves: set HOST to an address of this machine, such as 127.0.0.1`,
      EAI_AGAIN: `HOST=${host} could not be resolved: set HOST to an address of this machine, such as 127.0.0.1`
    }
    const message = listen[error.code ?? '']
    if (message !== undefined) return { exitCode: EXIT_CONFIG, message, expected: true }
  }

  if (context.sqlitePath !== undefined && context.sqlitePath !== ':memory:') {
    const reason = sqliteFileError(error, context.sqlitePath)
    if (reason !== undefined) {
      return {
        exitCode: EXIT_CONFIG,
        message: `the SQLite database ${context.sqlitePath} (DATABASE_URL) cannot be used: ${reason}. Make its directory writable by this user, or set DATABASE_URL=file:<path> to a file in one that is`,
        expected: true
      }
    }
  }

  return { exitCode: EXIT_FAILURE, message: error.message.split('\n')[0], expected: false }
}

/**
 * The values of the environment that must never be printed: secrets, keys, and the passwords of
 * URLs (DATABASE_URL, REDIS_URL, SMTP_URL), so that no message can echo them whatever it quotes.
 */
export function secretsOf (env: Record<string, string | undefined>): string[] {
  const secrets = new Set<string>()
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value.trim() === '') continue
    if (/SECRET|PASSWORD|PRIVATE_KEY|ENCRYPTION_KEY|TOKEN/.test(name)) {
      secrets.add(value.trim())
      for (const line of value.replace(/\\n/g, '\n').split('\n')) if (line.trim().length >= 16) secrets.add(line.trim())
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && URL.canParse(value)) {
      const password = new URL(value).password
      if (password !== '') {
        secrets.add(password)
        try {
          secrets.add(decodeURIComponent(password))
        } catch {}
      }
    }
  }
  return [...secrets].filter(secret => secret.length >= 4).sort((a, b) => b.length - a.length)
}

export function redact (text: string, secrets: string[]): string {
  let out = text
  for (const secret of secrets) out = out.split(secret).join('[redacted]')
  return out
}
