// Runs the operator CLI against a fresh database of the pass: in the test's own process (runCli, as
// main.ts calls it), or, where the process itself is what is tested (exit status, shebang, a real
// stdin), as a child process (the build when current, else from source: source-loader.ts).
import { execFile } from 'node:child_process'
import { Readable, Writable } from 'node:stream'
import { runCli } from '../../src/cli/run.js'
import { openDatabase } from '../../db/sqlite/index.js'
import { ON_POSTGRES, rawDatabase, testDatabaseUrl } from '../helper.js'
import { NO_CHILD_COVERAGE, entryPoint } from '../source-loader.js'

export const cli = new URL('../../src/cli/main.ts', import.meta.url).pathname

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** A stream that keeps what is written to it. */
function captured () {
  let text = ''
  const stream = new Writable({
    write (chunk, _encoding, done) {
      text += String(chunk)
      done()
    }
  })
  return { stream, text: () => text }
}

/**
 * `portcullis ...args` in this process, with only PATH and `env` in its environment and a stdin that
 * is not a terminal and has ended (as an empty pipe): a command costs milliseconds, not a process
 * start.
 */
export async function portcullis (args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const stdout = captured()
  const stderr = captured()
  const code = await runCli(args, {
    env: { PATH: process.env.PATH, ...env },
    stdin: Readable.from([]),
    stdout: stdout.stream,
    stderr: stderr.stream
  })
  return { code, stdout: stdout.text(), stderr: stderr.text() }
}

/** `portcullis ...args` as a child process, with only PATH and `env` in its environment; stdin is a pipe (not a terminal). */
export function portcullisProcess (args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise(resolve => {
    const entry = entryPoint('src/cli/main.ts')
    const child = execFile(process.execPath, [...entry.args, ...args], { env: { PATH: process.env.PATH, ...NO_CHILD_COVERAGE, ...entry.env, ...env } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, stdout, stderr })
    })
    child.stdin?.end()
  })
}

interface Teardown { teardown (fn: () => unknown): void }

export interface TempDatabase {
  url: string
  /** The CLI's environment: this database, and the cheapest bcrypt cost (as the test apps use). */
  env: Record<string, string>
  /** A look at the rows, for what the API does not show (values as SQLite returns them: RawDatabase). */
  query<T> (sql: string, ...params: unknown[]): Promise<T[]>
}

/**
 * A fresh, migrated database (a temp SQLite file, or a PostgreSQL database on that pass), gone when
 * the test ends. Migrated as `portcullis migrate` leaves it: the other commands refuse a missing one.
 */
export async function tempDatabase (t: Teardown): Promise<TempDatabase> {
  const url = await testDatabaseUrl(t)
  if (!ON_POSTGRES) openDatabase(url).$client.close()
  const reader = rawDatabase(t, url)
  return {
    url,
    env: { DATABASE_URL: url, BCRYPT_COST: '4' },
    query: reader.query
  }
}

export const PASSWORD = 'correct horse battery'
