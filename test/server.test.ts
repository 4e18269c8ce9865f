// The real server process: start-up, durability under SIGKILL, graceful SIGTERM, log hygiene.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import t from 'tap'
import Database from 'better-sqlite3'
import { testPrivateKey, PASSWORD } from './helper.js'

const serverEntry = new URL('../src/server.ts', import.meta.url).pathname

interface Running {
  child: ChildProcess
  url: string
  output: () => string
  exited: Promise<[number | null, NodeJS.Signals | null]>
}

function tempDir (t: { teardown (fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-server-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function startServer (t: { teardown (fn: () => void): void }, env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', serverEntry], {
    env: {
      PATH: process.env.PATH,
      FASTIFY_AUTOLOAD_TYPESCRIPT: '1',
      PORT: '0',
      LOG_LEVEL: 'info',
      BCRYPT_COST: '4',
      HASH_WORKERS: '1',
      JWT_PRIVATE_KEY: testPrivateKey(),
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let output = ''
  child.stdout!.on('data', chunk => { output += chunk })
  child.stderr!.on('data', chunk => { output += chunk })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000)
    const check = () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout!.on('data', check)
    child.once('exit', () => { clearTimeout(timer); reject(new Error(`server exited:\n${output}`)) })
  })
  return { child, url, output: () => output, exited }
}

async function post (url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json().catch(() => null) as Record<string, any> | null }
}

t.test('an acknowledged registration survives a SIGKILL right after the 201', async t => {
  const dir = tempDir(t)
  const file = join(dir, 'data', 'portcullis.db')
  const server = await startServer(t, { DATABASE_URL: `file:${file}` })
  const res = await post(`${server.url}/api/auth/register`, { email: 'durable@example.com', username: 'durable', password: PASSWORD })
  t.equal(res.status, 201)
  server.child.kill('SIGKILL')
  await server.exited
  const db = new Database(file, { readonly: true })
  t.teardown(() => db.close())
  const row = db.prepare('SELECT email FROM users WHERE email = ?').get('durable@example.com')
  t.same(row, { email: 'durable@example.com' })
  t.equal(statSync(join(dir, 'data')).mode & 0o777, 0o700, 'the data directory is owner-only')
})

t.test('SIGTERM lets in-flight requests finish, then exits 0', async t => {
  const dir = tempDir(t)
  const server = await startServer(t, { DATABASE_URL: `file:${join(dir, 'p.db')}`, BCRYPT_COST: '13' })
  // Cost 13 takes a good fraction of a second in bcryptjs: the request is still in flight at SIGTERM.
  const pending = post(`${server.url}/api/auth/register`, { email: 'slow@example.com', username: 'slow', password: PASSWORD })
  await new Promise(resolve => setTimeout(resolve, 150))
  server.child.kill('SIGTERM')
  const res = await pending
  t.equal(res.status, 201, 'the in-flight registration completed')
  const [code] = await server.exited
  t.equal(code, 0)
  t.match(server.output(), /shutting down/)
})

t.test('logs carry request ids and never credentials or tokens', async t => {
  const dir = tempDir(t)
  const server = await startServer(t, { DATABASE_URL: `file:${join(dir, 'p.db')}`, LOG_LEVEL: 'trace' })
  await post(`${server.url}/api/auth/register`, { email: 'quiet@example.com', username: 'quiet', password: PASSWORD })
  const login = await post(`${server.url}/api/auth/login`, { email: 'quiet@example.com', password: PASSWORD })
  t.equal(login.status, 200)
  const { access, refresh } = login.body!
  await fetch(`${server.url}/api/auth/me`, { headers: { authorization: `Bearer ${access}` } })
  const refreshed = await post(`${server.url}/api/auth/token/refresh`, {}, { cookie: `refresh_token=${refresh}` })
  t.equal(refreshed.status, 200)
  await fetch(`${server.url}/api/auth/verify-email?token=secret-one-time-token`)
  server.child.kill('SIGTERM')
  await server.exited

  const output = server.output()
  const lines = output.split('\n').filter(line => line.startsWith('{'))
  t.ok(lines.length > 5, 'JSON log lines were written')
  t.ok(lines.some(line => /"reqId":"[0-9a-f-]{36}"/.test(line)), 'request ids are logged')
  for (const secret of [PASSWORD, access, refresh, refreshed.body!.refresh, refreshed.body!.access, 'secret-one-time-token']) {
    t.notOk(output.includes(secret), `no secret in the logs: ${secret.slice(0, 12)}…`)
  }
})

t.test('a bad variable stops start-up with a message naming it', async t => {
  await t.rejects(startServer(t, { BCRYPT_COST: 'lots' }), /Invalid configuration: BCRYPT_COST/)
})
