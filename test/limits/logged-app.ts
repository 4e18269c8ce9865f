// An app whose log lines the test can read: for what must be logged once, and what never may be.
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../../src/config.js'
import { appDatabaseUrl, buildAppFor, testConfig } from '../helper.js'

interface Teardown { teardown (fn: () => unknown): void }

export interface LogLine {
  level: number
  msg: string
  [field: string]: unknown
}

export const WARN = 40

export interface LoggedApp {
  app: FastifyInstance
  /** Every line so far, parsed. */
  lines: LogLine[]
  /** Every line so far, as written. */
  raw (): string
}

/** A ready app on a fresh database (either pass), logging at debug into `lines`, closed when the test ends. */
export async function loggedApp (t: Teardown, overrides: Partial<Config> = {}, env: Record<string, string> = {}): Promise<LoggedApp> {
  const lines: LogLine[] = []
  const written: string[] = []
  const stream = new Writable({
    write (chunk, _encoding, done) {
      const text = String(chunk)
      written.push(text)
      for (const line of text.split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine)
      done()
    }
  })
  const config = testConfig({ databaseUrl: await appDatabaseUrl(t), ...overrides }, env)
  const app = await buildAppFor(t, config, { logger: { level: 'debug', stream } })
  await app.ready()
  return { app, lines, raw: () => written.join('') }
}
