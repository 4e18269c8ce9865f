// The real server process: start-up, durability under SIGKILL, graceful SIGTERM, log hygiene.
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { ON_POSTGRES, PASSWORD, rawDatabase, TEST_ENV, testDatabaseUrl } from './helper.js'
import { failedStart, startServer, tempDir } from './portcullis-process.js'
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

/** The abuse limits of the test environment (all off): many logins from one address. */
const limitsOff = Object.fromEntries(Object.entries(TEST_ENV).filter(([name]) => name.startsWith('RATE_LIMIT_')))

t.test('refresh rotations acknowledged together (one group commit on SQLite) survive a SIGKILL right after the last 200', async t => {
  const dir = tempDir(t)
  const databaseUrl = ON_POSTGRES ? await testDatabaseUrl(t) : `file:${join(dir, 'data', 'portcullis.db')}`
  const server = await startServer(t, { DATABASE_URL: databaseUrl, ...limitsOff })
  const body = { email: 'rotating@example.com', username: 'rotating', password: PASSWORD }
  t.equal((await post(`${server.url}/api/auth/register`, body)).status, 201)
  const sessions = []
  for (let i = 0; i < 12; i++) {
    const login = await post(`${server.url}/api/auth/login`, { email: body.email, password: PASSWORD })
    t.equal(login.status, 200)
    sessions.push(login.body!.refresh as string)
  }
  // Sent at once: on SQLite they arrive together and share transactions.
  const rotated = await Promise.all(sessions.map(refresh => post(`${server.url}/api/auth/token/refresh`, { refresh })))
  server.child.kill('SIGKILL')
  await server.exited
  t.same(rotated.map(r => r.status), sessions.map(() => 200), 'every rotation was acknowledged')
  const hashes = rotated.map(r => createHash('sha256').update(r.body!.refresh as string).digest('hex'))
  const db = rawDatabase(t, databaseUrl)
  for (const hash of hashes) {
    const rows = await db.query('SELECT rotated_at FROM refresh_tokens WHERE token_hash = ?', hash)
    t.same(rows, [{ rotated_at: null }], 'the acknowledged successor is in the database')
  }
  for (const refresh of sessions) {
    const [row] = await db.query('SELECT rotated_at FROM refresh_tokens WHERE token_hash = ?', createHash('sha256').update(refresh).digest('hex')) as Array<{ rotated_at: unknown }>
    t.not(row.rotated_at, null, 'the presented token is marked rotated')
  }
})

t.test('SIGTERM lets in-flight requests finish, then exits 0', async t => {
  const server = await startServer(t, { BCRYPT_COST: '13' })
  // Cost 13 takes a good fraction of a second in bcryptjs: the request is still in flight at SIGTERM,
  // sent once the server has logged the request's arrival (a condition, not a guess at a delay).
  const pending = post(`${server.url}/api/auth/register`, { email: 'slow@example.com', username: 'slow', password: PASSWORD })
  await waitUntil(() => /"msg":"incoming request"[^\n]*"\/api\/auth\/register"|"\/api\/auth\/register"[^\n]*"msg":"incoming request"/.test(server.output()), 10_000, 'the registration to arrive', t)
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

const SECRET = 'Secret-7f3a9c'

t.test('start-up failures: one line naming what to fix, exit 78, no stack trace, no secret', async t => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'a-file'), 'not a directory')
  writeFileSync(join(dir, 'not-a-database.db'), 'x'.repeat(4096))
  mkdirSync(join(dir, 'read-only'), { mode: 0o500 })
  const held = createServer().listen(0, '127.0.0.1')
  await once(held, 'listening')
  t.teardown(() => held.close())
  const heldPort = (held.address() as AddressInfo).port

  const cases: Array<{ name: string, env: Record<string, string>, line: RegExp, skip?: string | false }> = [
    { name: 'a garbage JWT_PRIVATE_KEY', env: { JWT_PRIVATE_KEY: `garbage-${SECRET}` }, line: /Invalid configuration: JWT_PRIVATE_KEY is not a private key: give a PEM/ },
    { name: 'a JWT_PRIVATE_KEY_FILE that is not there', env: { JWT_PRIVATE_KEY: '', JWT_PRIVATE_KEY_FILE: join(dir, 'missing.pem') }, line: /Invalid configuration: JWT_PRIVATE_KEY_FILE cannot be read/ },
    { name: 'a bad variable', env: { BCRYPT_COST: 'lots' }, line: /Invalid configuration: BCRYPT_COST must be a whole number/ },
    { name: 'a data directory that cannot be created', env: { DATABASE_URL: `file:${join(dir, 'a-file', 'data', 'portcullis.db')}` }, line: /the SQLite database \S+ \(DATABASE_URL\) cannot be used: a part of the path is a file, not a directory .*Make its directory writable by this user, or set DATABASE_URL/ },
    {
      name: 'a data directory that is not writable',
      env: { DATABASE_URL: `file:${join(dir, 'read-only', 'data', 'portcullis.db')}` },
      line: /the SQLite database \S+ \(DATABASE_URL\) cannot be used: permission denied/,
      skip: process.getuid?.() === 0 && 'root may write anywhere'
    },
    { name: 'a file that is not a database', env: { DATABASE_URL: `file:${join(dir, 'not-a-database.db')}` }, line: /the SQLite database \S+ \(DATABASE_URL\) cannot be used: the file is not a SQLite database/ },
    { name: 'a port in use', env: { PORT: String(heldPort) }, line: new RegExp(`port ${heldPort} on 127\\.0\\.0\\.1 is already in use: stop the process that holds it, or set PORT to a free port`) },
    { name: 'a HOST that is not an address of this machine', env: { HOST: '192.0.2.1' }, line: /HOST=192\.0\.2\.1 is not an address of this machine: set HOST/ },
    { name: 'a PostgreSQL DATABASE_URL that does not parse, with a password', env: { DATABASE_URL: `postgres://admin:${SECRET}@db.internal:99999/portcullis` }, line: /Invalid configuration: DATABASE_URL must be a URL such as postgres:/ },
    { name: 'an SMTP_URL of another scheme, with a password', env: { SMTP_URL: `http://mailer:${SECRET}@mail.internal` }, line: /Invalid configuration: SMTP_URL must start with smtp:\/\/ or smtps:\/\// }
  ]
  const runs = cases.filter(c => !c.skip)
  // Started together: each is a server process of its own, and they share nothing.
  const results = await Promise.all(runs.map(c => failedStart(t, c.env)))
  runs.forEach(({ name, line }, i) => {
    const { code, output } = results[i]
    const failures = output.split('\n').filter(l => l.startsWith('Portcullis failed to start: '))
    t.equal(failures.length, 1, `${name}: one line says it`)
    t.match(failures[0], line, `${name}: it names what to fix`)
    t.equal(code, 78, `${name}: exit 78 (EX_CONFIG)`)
    t.notMatch(output, /\n\s+at /, `${name}: no stack trace`)
    t.notMatch(output, SECRET, `${name}: no secret`)
  })
})

t.test('LOG_LEVEL=debug adds the stack trace of a start-up failure', async t => {
  const held = createServer().listen(0, '127.0.0.1')
  await once(held, 'listening')
  t.teardown(() => held.close())
  const { code, output } = await failedStart(t, { PORT: String((held.address() as AddressInfo).port), LOG_LEVEL: 'debug' })
  t.equal(code, 78)
  t.match(output, /Portcullis failed to start: port \d+ on 127\.0\.0\.1 is already in use/)
  t.match(output, /EADDRINUSE[^\n]*\n\s+at /, 'the stack follows')
})

t.test('a first start says, at info, that it starts, that migrations ran, that a key was made, where it listens and where the docs are', async t => {
  const dir = tempDir(t)
  const databaseUrl = ON_POSTGRES ? await testDatabaseUrl(t) : `file:${join(dir, 'data', 'portcullis.db')}`
  const server = await startServer(t, { DATABASE_URL: databaseUrl, JWT_PRIVATE_KEY: '' })
  await waitUntil(() => server.output().includes('API documentation'), 60_000, 'the docs line', t)
  server.child.kill('SIGTERM')
  await server.exited
  const lines = server.output().split('\n').filter(line => line.startsWith('{')).map(line => JSON.parse(line) as { level: number, msg: string })
  t.equal(lines[0].level, 30, `the first line is info, not a warning: ${lines[0].msg}`)
  t.match(lines[0].msg, /^Portcullis \S+ starting/)
  const info = lines.filter(line => line.level === 30).map(line => line.msg)
  const where = ON_POSTGRES ? 'PostgreSQL' : `SQLite ${join(dir, 'data', 'portcullis.db')}`
  t.ok(info.some(msg => msg.startsWith(`database ready, migrations applied: ${where}`)), 'migrations')
  t.ok(info.some(msg => /^created a RS256 signing key \(kid [\w-]{43}\), stored in the database/.test(msg)), 'the new signing key')
  t.ok(info.includes(`Portcullis ${/Portcullis (\S+) starting/.exec(lines[0].msg)![1]} is listening on ${server.url}; its public URL is http://localhost:0`), 'where it listens')
  t.ok(info.includes(`API documentation (Swagger UI): ${server.url}/docs, the OpenAPI document: ${server.url}/docs/json`), 'where the docs are')

  const again = await startServer(t, { DATABASE_URL: databaseUrl, JWT_PRIVATE_KEY: '', DOCS_ENABLED: 'false' })
  await waitUntil(() => again.output().includes('is listening on'), 60_000, 'the listening line', t)
  again.child.kill('SIGTERM')
  await again.exited
  t.notMatch(again.output(), /created a RS256 signing key/, 'a restart keeps the stored key')
  t.notMatch(again.output(), /API documentation/, 'DOCS_ENABLED=false: no docs to point at')
  t.match(again.output(), /is listening on/)
})
