import t from 'tap'
import Database from 'better-sqlite3'
import { build, sqliteOnly } from '../helper.js'

t.test('GET /health/live answers 200 {status: "ok"}', async t => {
  const app = await build(t)
  const res = await app.inject({ url: '/health/live' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.same(res.json(), { status: 'ok' })
})

t.test('GET /health/ready answers 200 {status: "ok"} when the database answers', async t => {
  const app = await build(t)
  const res = await app.inject({ url: '/health/ready' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
})

t.test('GET /health/ready really asks the database', async t => {
  const app = await build(t)
  const { health } = app.repositories
  let pings = 0
  const ping = health.ping.bind(health)
  health.ping = async () => {
    pings++
    return ping()
  }
  await app.inject({ url: '/health/ready' })
  await app.inject({ url: '/health/ready' })
  t.equal(pings, 2, 'one ping per probe, nothing cached')
  await app.inject({ url: '/health/live' })
  t.equal(pings, 2, 'liveness does not depend on the database')
})

t.test('GET /health/ready is a 503 not_ready problem when the database fails, and recovers', async t => {
  const app = await build(t)
  const { health } = app.repositories
  const ping = health.ping
  health.ping = async () => { throw new Error('SQLITE_IOERR: disk I/O error at /secret/path.db') }
  const res = await app.inject({ url: '/health/ready' })
  t.equal(res.statusCode, 503)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  const body = res.json()
  t.equal(body.type, 'about:blank')
  t.equal(body.title, 'Service Unavailable')
  t.equal(body.status, 503)
  t.equal(body.code, 'not_ready')
  t.type(body.detail, 'string')
  t.notMatch(res.body, /SQLITE|secret/, 'the database error stays in the log')

  const live = await app.inject({ url: '/health/live' })
  t.equal(live.statusCode, 200, 'the process is still alive while the database is down')

  health.ping = ping
  const recovered = await app.inject({ url: '/health/ready' })
  t.equal(recovered.statusCode, 200)
  t.same(recovered.json(), { status: 'ok' })
})

t.test('GET /health/ready is 503 when the SQLite connection is really closed', sqliteOnly('closes the SQLite connection (test/db/postgres/connection.test.ts cuts PostgreSQL off)'), async t => {
  // Catch the app's own connection as the db plugin opens it (openDatabase sets pragmas on it).
  const pragma = Database.prototype.pragma
  let connection: Database.Database | undefined
  Database.prototype.pragma = function (this: Database.Database, ...args: Parameters<typeof pragma>) {
    connection ??= this
    return pragma.apply(this, args)
  }
  let app
  try {
    app = await build(t)
  } finally {
    Database.prototype.pragma = pragma
  }
  t.ok(connection?.open, 'caught the open connection')
  t.equal((await app.inject({ url: '/health/ready' })).statusCode, 200)
  connection!.close()
  const res = await app.inject({ url: '/health/ready' })
  t.equal(res.statusCode, 503)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(res.json().code, 'not_ready')
  t.equal(res.json().status, 503)
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200)
})

t.test('the probes are plain GETs: other methods are 404 problems', async t => {
  const app = await build(t)
  for (const url of ['/health/live', '/health/ready']) {
    const res = await app.inject({ method: 'POST', url, payload: {} })
    t.equal(res.statusCode, 404)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.equal(res.json().code, 'not_found')
  }
})

t.test('HEAD works on the probes for load balancers that use it', async t => {
  const app = await build(t)
  for (const url of ['/health/live', '/health/ready']) {
    const res = await app.inject({ method: 'HEAD', url })
    t.equal(res.statusCode, 200, url)
    t.equal(res.body, '')
  }
})
