// build(t, overrides): a fresh app on a fresh database (in memory on the SQLite pass, a new
// PostgreSQL database on the PostgreSQL pass: test/databases.ts), closed when the test ends.
import { generateKeyPairSync } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Piscina } from 'piscina'
import { buildApp, type BuildAppOptions } from '../src/app.js'
import { loadConfig, type Config } from '../src/config.js'
import { createHashWorkers } from '../src/passwords/hasher.js'
import { appDatabaseUrl, ON_POSTGRES } from './databases.js'
import { sharedSchemaCompilers } from './schema-compilers.js'

export { appDatabaseUrl, ON_POSTGRES, TEST_DATABASE_URL, rawDatabase, sqliteOnly, testDatabaseUrl, type RawDatabase } from './databases.js'

export const TEST_ENV = {
  DATABASE_URL: ':memory:',
  BCRYPT_COST: '4',
  HASH_WORKERS: '1',
  LOG_LEVEL: 'silent',
  PUBLIC_URL: 'http://portcullis.test',
  PRUNE_INTERVAL: '0',
  // Abuse limits are off unless a test turns one on: most tests make many requests from one address.
  RATE_LIMIT_LOGIN_ACCOUNT: 'off',
  RATE_LIMIT_LOGIN_IP: 'off',
  RATE_LIMIT_REGISTER_IP: 'off',
  RATE_LIMIT_EMAIL_IP: 'off',
  RATE_LIMIT_EMAIL_ADDRESS: 'off',
  RATE_LIMIT_TOKEN_IP: 'off',
  RATE_LIMIT_REFRESH_IP: 'off',
  RATE_LIMIT_LOGIN_REQUESTS_IP: 'off',
  RATE_LIMIT_VERIFY_IP: 'off'
}

let sharedKey: string | undefined
/**
 * One RSA key for the test run: generating a 2048-bit key takes up to a second of CPU. `npm test`
 * makes it once for every test process (TEST_PRIVATE_KEY); a file run alone makes its own.
 */
export function testPrivateKey (): string {
  sharedKey ??= process.env.TEST_PRIVATE_KEY || generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  return sharedKey
}

/** On PostgreSQL, a small pool per app: two test processes run many apps against one server. */
const DATABASE_ENV: Record<string, string> = ON_POSTGRES ? { DATABASE_POOL_MAX: '4' } : {}

/**
 * The test configuration: TEST_ENV plus `env`, then `overrides`. RS256 apps share one key unless the
 * env sets its own key or algorithm (pass `{ JWT_PRIVATE_KEY: '' }` to exercise key generation).
 * Its database is `:memory:` unless `env` or `overrides` name one: an app built from it directly
 * (not with build) takes `{ databaseUrl: await appDatabaseUrl(t) }` to run on both databases.
 */
export function testConfig (overrides: Partial<Config> = {}, env: Record<string, string> = {}): Config {
  const usesDefaultKey = !('JWT_PRIVATE_KEY' in env) && !('JWT_PRIVATE_KEY_FILE' in env) && (env.JWT_ALGORITHM ?? 'RS256') === 'RS256'
  const keyEnv = usesDefaultKey ? { JWT_PRIVATE_KEY: testPrivateKey() } : {}
  return { ...loadConfig({ ...TEST_ENV, ...DATABASE_ENV, ...keyEnv, ...env }), ...overrides }
}

interface Teardown { teardown (fn: () => unknown): void }

export interface BuildOptions {
  now?: () => Date
  env?: Record<string, string>
}

let sharedHashWorkers: Piscina | undefined
/**
 * The password-hashing thread of this process's apps, for those with the test default of one
 * (HASH_WORKERS=1): each app starting its own costs ~150 ms of CPU (a thread, bcrypt loaded in
 * it), as much as the rest of building it. Hashes are pure functions of their task, so sharing the
 * thread changes no answer. An idle piscina thread is unref'd: it does not keep the process alive.
 */
function hashWorkersFor (config: Config): Piscina | undefined {
  if (config.hashWorkers !== 1) return undefined
  sharedHashWorkers ??= createHashWorkers({ threads: 1 })
  return sharedHashWorkers
}

/**
 * A ready app, closed when the test ends. Its database is fresh unless the test names one (with
 * `env.DATABASE_URL` or `overrides.databaseUrl`, from testDatabaseUrl, to share it with another app
 * or a process); a fresh PostgreSQL database is dropped after the app has closed.
 */
export async function build (t: Teardown, overrides: Partial<Config> = {}, options: BuildOptions = {}): Promise<FastifyInstance> {
  const named = overrides.databaseUrl !== undefined || options.env?.DATABASE_URL !== undefined
  const database = named ? {} : { databaseUrl: await appDatabaseUrl(t) }
  const app = await buildAppFor(t, testConfig({ ...database, ...overrides }, options.env), { now: options.now })
  await app.ready()
  return app
}

/**
 * buildApp(config) as build makes it (this process's compiled schemas and hashing thread shared),
 * closed when the test ends, and not yet ready: for a test that adds routes first, or logs.
 */
export async function buildAppFor (t: Teardown, config: Config, options: { now?: () => Date, logger?: BuildAppOptions['logger'] } = {}): Promise<FastifyInstance> {
  const app = await buildApp({ config, logger: options.logger ?? false, now: options.now, schemaController: sharedSchemaCompilers, hashWorkers: hashWorkersFor(config) })
  t.teardown(() => app.close())
  return app
}

/** A clock the test moves by hand, starting at the real time so that JWT iat/exp stay consistent. */
export function manualClock () {
  let current = new Date()
  return {
    now: () => current,
    advance (ms: number) { current = new Date(current.getTime() + ms) }
  }
}

export const PASSWORD = 'correct horse battery'

let counter = 0
/** A unique, valid registration body. */
export function newUser (overrides: Partial<{ email: string, username: string, password: string }> = {}) {
  counter += 1
  return { email: `user${counter}@example.com`, username: `user${counter}`, password: PASSWORD, ...overrides }
}

export async function registerUser (app: FastifyInstance, body = newUser()) {
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: body })
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`)
  return { ...body, id: res.json().user.id as string }
}

export interface LoggedIn {
  id: string
  email: string
  username: string
  password: string
  access: string
  refresh: string
  cookie: string
}

/** Registers a user and logs in, returning the tokens and the Set-Cookie value. */
export async function loginUser (app: FastifyInstance, body = newUser()): Promise<LoggedIn> {
  const user = await registerUser(app, body)
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: body.email, password: body.password } })
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
  const { access, refresh } = res.json()
  return { ...user, access, refresh, cookie: String(res.headers['set-cookie']) }
}

export function bearer (token: string) {
  return { authorization: `Bearer ${token}` }
}
