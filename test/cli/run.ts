// Runs the operator CLI as a child process (from source) against a temp database.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { NO_CHILD_COVERAGE, SOURCE_LOADER_ARGS } from '../source-loader.js'

export const cli = new URL('../../src/cli/main.ts', import.meta.url).pathname

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** `portcullis ...args` with only PATH and `env` in its environment; stdin is a pipe (not a terminal). */
export function portcullis (args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise(resolve => {
    const child = execFile(process.execPath, [...SOURCE_LOADER_ARGS, cli, ...args], { env: { PATH: process.env.PATH, ...NO_CHILD_COVERAGE, ...env } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, stdout, stderr })
    })
    child.stdin?.end()
  })
}

interface Teardown { teardown (fn: () => unknown): void }

export interface TempDatabase {
  file: string
  url: string
  /** The CLI's environment: this database, and the cheapest bcrypt cost (as the test apps use). */
  env: Record<string, string>
  /** A read-only look at the rows, for what the API does not show. */
  query<T> (sql: string, ...params: unknown[]): T[]
}

export function tempDatabase (t: Teardown): TempDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-cli-'))
  const file = join(dir, 'p.db')
  let reader: Database.Database | undefined
  t.teardown(() => {
    reader?.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    file,
    url: `file:${file}`,
    env: { DATABASE_URL: `file:${file}`, BCRYPT_COST: '4' },
    query<T> (sql: string, ...params: unknown[]): T[] {
      reader ??= new Database(file, { readonly: true })
      return reader.prepare(sql).all(...params) as T[]
    }
  }
}

export const PASSWORD = 'correct horse battery'
