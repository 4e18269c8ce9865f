// The real server process: start-up, durability under SIGKILL, graceful SIGTERM, log hygiene.
import { statSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ON_POSTGRES, PASSWORD, rawDatabase, testDatabaseUrl } from './helper.js'
import { startServer, tempDir } from './portcullis-process.js'
import { waitUntil } from './wait-until.js'

async function post (url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json().catch(() => null) as Record<string, any> | null }
}

t.test('an acknowledged registration survives a SIGKILL right after the 201', async t => {
  const dir = tempDir(t)
  const databaseUrl = ON_POSTGRES ? await testDatabaseUrl(t) : `file:${join(dir, 'data', 'portcullis.db')}`
  const server = await startServer(t, { DATABASE_URL: databaseUrl })
  const res = await post(`${server.url}/api/auth/register`, { email: 'durable@example.com', username: 'durable', password: PASSWORD })
  t.equal(res.status, 201)
  server.child.kill('SIGKILL')
  await server.exited
  const rows = await rawDatabase(t, databaseUrl).query('SELECT email FROM users WHERE email = ?', 'durable@example.com')
  t.same(rows, [{ email: 'durable@example.com' }])
  if (!ON_POSTGRES) t.equal(statSync(join(dir, 'data')).mode & 0o777, 0o700, 'the data directory is owner-only')
})

t.test('SIGTERM lets in-flight requests finish, then exits 0', async t => {
  const server = await startServer(t, { BCRYPT_COST: '13' })
  // Cost 13 takes a good fraction of a second in bcryptjs: the request is still in flight at SIGTERM,
  // sent once the server has logged the request's arrival (a condition, not a guess at a delay).
  const pending = post(`${server.url}/api/auth/register`, { email: 'slow@example.com', username: 'slow', password: PASSWORD })
  await waitUntil(() => /"msg":"incoming request"[^\n]*"\/api\/auth\/register"|"\/api\/auth\/register"[^\n]*"msg":"incoming request"/.test(server.output()), 10_000, 'the registration to arrive')
  t.notMatch(server.output(), /"msg":"request completed"/, 'still in flight at SIGTERM')
  server.child.kill('SIGTERM')
  const res = await pending
  t.equal(res.status, 201, 'the in-flight registration completed')
  const [code] = await server.exited
  t.equal(code, 0)
  t.match(server.output(), /shutting down/)
})

t.test('logs carry request ids and never credentials or tokens', async t => {
  const server = await startServer(t, { LOG_LEVEL: 'trace' })
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
