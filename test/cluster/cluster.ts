// Several built Portcullis servers (`node dist/src/server.js`) on one fresh PostgreSQL database and one
// Redis, with the operator CLI and a read-only look at the database, for the multi-instance tests.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import pg from 'pg'
import { buildIsCurrent } from '../../scripts/build-stamp.js'
import { NO_CHILD_COVERAGE } from '../source-loader.js'

const run = promisify(execFile)
const root = new URL('../../', import.meta.url).pathname

interface Teardown { teardown (fn: () => unknown): void }

type Auth = string | Record<string, string>

export interface Answer {
  status: number
  body: any
}

export interface Instance {
  name: string
  url: string
  child: ChildProcess
  get (path: string, auth?: Auth): Promise<Answer>
  post (path: string, body?: unknown, auth?: Auth): Promise<Answer>
}

export interface Cluster {
  instances: Instance[]
  databaseUrl: string
  /** How many migrations db/postgres/migrations holds. */
  migrationFiles: number
  query<T> (sql: string, params?: unknown[]): Promise<T[]>
  count (table: string): Promise<number>
  /** A superuser's access token (made once, through the CLI), logged in through `instance`. */
  admin (instance: Instance): Promise<string>
  /** HTTP Basic credentials of a service client made through the CLI. */
  client (): Promise<Record<string, string>>
}

let built: Promise<unknown> | undefined
/**
 * The tests run what production runs: the build, brought up to date once per test process unless
 * `npm test` has just built it from these very sources (scripts/build-stamp.js).
 */
export function ensureBuilt (): Promise<unknown> {
  built ??= buildIsCurrent() ? Promise.resolve() : run('npm', ['run', '--silent', 'build:if-needed'], { cwd: root })
  return built
}

/** An empty database of its own on the TEST_DATABASE_URL server, dropped when the test ends. */
async function emptyDatabase (t: Teardown, serverUrl: string): Promise<string> {
  const name = `portcullis_cluster_${process.pid}_${Date.now()}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  t.teardown(async () => {
    const dropper = new pg.Client({ connectionString: serverUrl })
    await dropper.connect()
    await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await dropper.end()
  })
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.toString()
}

function call (base: string, method: string, path: string, body: unknown, auth: Auth | undefined): Promise<Answer> {
  const headers: Record<string, string> = typeof auth === 'string' ? { authorization: `Bearer ${auth}` } : { ...auth }
  if (body !== undefined) headers['content-type'] = 'application/json'
  return fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    .then(async res => {
      const text = await res.text()
      return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
    })
}

/** A built server's environment: production mode on loopback, cheap hashing, plus `env`. */
export function serverEnv (env: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH!,
    ...NO_CHILD_COVERAGE,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    // At least info: an instance's start is read from its "Server listening" line.
    LOG_LEVEL: 'info',
    BCRYPT_COST: '4',
    HASH_WORKERS: '1',
    PUBLIC_URL: 'http://portcullis.test',
    ...env
  }
}

/** One built server with exactly `env` (PATH and the rest included; LOG_LEVEL at least info: its start is read from the log). */
export async function startInstance (t: Teardown, name: string, env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ['dist/src/server.js'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    await once(child, 'exit')
  })
  let output = ''
  child.stdout!.on('data', chunk => { output += chunk })
  child.stderr!.on('data', chunk => { output += chunk })
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match) resolve(match[1])
    }
    child.stdout!.on('data', check)
    child.once('exit', () => reject(new Error(`${name} exited:\n${output}`)))
  })
  return {
    name,
    url,
    child,
    get: (path, auth) => call(url, 'GET', path, undefined, auth),
    post: (path, body, auth) => call(url, 'POST', path, body, auth)
  }
}

export async function startCluster (t: Teardown, options: { instances: number, env: Record<string, string> }): Promise<Cluster> {
  const serverUrl = process.env.TEST_DATABASE_URL!
  const [databaseUrl] = await Promise.all([emptyDatabase(t, serverUrl), ensureBuilt()])
  const env = serverEnv({
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.TEST_REDIS_URL!,
    // Each test process counts under its own Redis keys: files running in parallel share one Redis.
    REDIS_KEY_PREFIX: `portcullis-test-${process.pid}-${Date.now()}:`,
    ...options.env
  })
  // All at once, on an empty database: migrations and the first signing key must happen once.
  const instances = await Promise.all(Array.from({ length: options.instances }, (_, i) =>
    startInstance(t, String.fromCharCode(65 + i), env)))

  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 })
  // The database is dropped WITH (FORCE) at teardown: the idle connection it ends is expected.
  pool.on('error', () => {})
  t.teardown(() => pool.end())
  const query = async <T>(sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows as T[]
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    run(process.execPath, ['dist/src/cli/main.js', ...args], { cwd: root, env: { ...env, ...extra } })

  let adminPassword: Promise<string> | undefined
  let client: Promise<Record<string, string>> | undefined
  const journal = JSON.parse(readFileSync(new URL('db/postgres/migrations/meta/_journal.json', `file://${root}`), 'utf8')) as { entries: unknown[] }

  return {
    instances,
    databaseUrl,
    migrationFiles: journal.entries.length,
    query,
    async count (table) {
      const [row] = await query<{ count: string }>(`SELECT count(*) FROM ${table}`)
      return Number(row.count)
    },
    async admin (instance) {
      const password = 'cluster admin password'
      adminPassword ??= cli(['create-superuser', '--no-input', '--email', 'root@example.com', '--username', 'root'], { PORTCULLIS_PASSWORD: password })
        .then(() => password)
      const res = await instance.post('/api/auth/login', { email: 'root@example.com', password: await adminPassword })
      if (res.status !== 200) throw new Error(`admin login: ${res.status} ${JSON.stringify(res.body)}`)
      return res.body.access
    },
    client () {
      client ??= cli(['create-client', '--name', 'feed-reader', '--json']).then(({ stdout }) => {
        const created = JSON.parse(stdout) as { client_id: string, client_secret: string }
        return { authorization: `Basic ${Buffer.from(`${created.client_id}:${created.client_secret}`).toString('base64')}` }
      })
      return client
    }
  }
}
