// Runs the operator CLI as a child process (the build when current, else from source: source-loader.ts)
// against a fresh database of the pass.
import { execFile } from 'node:child_process'
import { openDatabase } from '../../db/sqlite/index.js'
import { ON_POSTGRES, rawDatabase, testDatabaseUrl } from '../helper.js'
import { NO_CHILD_COVERAGE, entryPoint } from '../source-loader.js'

export const cli = new URL('../../src/cli/main.ts', import.meta.url).pathname

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** `portcullis ...args` with only PATH and `env` in its environment; stdin is a pipe (not a terminal). */
export function portcullis (args: string[], env: Record<string, string> = {}): Promise<CliResult> {
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
