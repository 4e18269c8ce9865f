// A real Portcullis server process (the build when current, else from source: source-loader.ts) for
// tests where the process itself matters.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { testDatabaseUrl, testPrivateKey } from './helper.js'
import { NO_CHILD_COVERAGE, entryPoint } from './source-loader.js'

interface Teardown { teardown (fn: () => unknown): void }

export interface RunningServer {
  child: ChildProcess
  url: string
  output: () => string
  exited: Promise<[number | null, NodeJS.Signals | null]>
}

/** A temp directory removed when the test ends. */
export function tempDir (t: Teardown): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-server-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The server process with the test settings; `env` adds to or overrides them. */
async function spawnServer (t: Teardown, env: Record<string, string>) {
  const database = env.DATABASE_URL === undefined ? { DATABASE_URL: await testDatabaseUrl(t) } : {}
  const entry = entryPoint('src/server.ts')
  const child = spawn(process.execPath, entry.args, {
    env: {
      PATH: process.env.PATH,
      ...NO_CHILD_COVERAGE,
      ...entry.env,
      PORT: '0',
      LOG_LEVEL: 'info',
      BCRYPT_COST: '4',
      HASH_WORKERS: '1',
      JWT_PRIVATE_KEY: testPrivateKey(),
      ...database,
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let output = ''
  child.stdout!.on('data', chunk => { output += chunk })
  child.stderr!.on('data', chunk => { output += chunk })
  return { child, exited, output: () => output }
}

/**
 * Starts the server on a free port with the test key, cheap hashing and, unless `env` names one, a
 * fresh database (testDatabaseUrl: SQLite or PostgreSQL by the pass); `env` adds to or overrides that.
 */
export async function startServer (t: Teardown, env: Record<string, string>): Promise<RunningServer> {
  const { child, exited, output } = await spawnServer(t, env)
  // Until it listens or exits: no start-up deadline, which a busy machine could hit (a server that
  // hangs is caught by tap's per-file timeout, .taprc).
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output())
      if (match) resolve(match[1])
    }
    child.stdout!.on('data', check)
    child.once('exit', () => { reject(new Error(`server exited:\n${output()}`)) })
  })
  return { child, url, output, exited }
}

/** Runs a server that is expected to refuse to start: its exit code and everything it wrote. */
export async function failedStart (t: Teardown, env: Record<string, string>): Promise<{ code: number | null, output: string }> {
  const { child, exited, output } = await spawnServer(t, env)
  // A server that starts instead is stopped at once (no deadline: a busy machine may start slowly).
  const started = () => { if (/Server listening at/.test(output())) child.kill('SIGKILL') }
  child.stdout!.on('data', started)
  const [code] = await exited
  if (/Server listening at/.test(output())) throw new Error(`the server started:\n${output()}`)
  return { code, output: output() }
}
