import t from 'tap'
import Database from 'better-sqlite3'
import { build, sqliteOnly } from '../helper.js'
import { waitUntil } from '../wait-until.js'
import { loggedApp } from '../limits/logged-app.js'
import { deadRedisUrl, NEEDS_REDIS, NEEDS_REDIS_SERVER, ownRedis, TEST_REDIS_URL, uniqueKeyPrefix } from '../limits/redis-server.js'

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

// Redis, when configured

t.test('GET /health/ready asks Redis too when REDIS_URL is set, once per probe', NEEDS_REDIS, async t => {
  const app = await build(t, { redisUrl: TEST_REDIS_URL, redisKeyPrefix: uniqueKeyPrefix() })
  const pings = t.capture(app.redis!, 'ping', app.redis!.ping)
  const res = await app.inject({ url: '/health/ready' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
  await app.inject({ url: '/health/ready' })
  t.equal(pings().length, 2)
})

t.test('GET /health/ready is 503 not_ready while Redis is down, naming nothing secret; everything else is served', async t => {
  const url = await deadRedisUrl()
  const { app, lines, raw } = await loggedApp(t, { redisUrl: url })
  const res = await app.inject({ url: '/health/ready' })
  t.equal(res.statusCode, 503)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  const body = res.json()
  t.equal(body.code, 'not_ready')
  t.equal(body.status, 503)
  t.equal(body.title, 'Service Unavailable')
  t.equal(body.detail, 'Redis does not answer.')
  t.notMatch(res.body, new RegExp(`dead-redis-password|127\\.0\\.0\\.1|${new URL(url).port}|ECONNREFUSED|enableOfflineQueue`), 'no address, password or error in the answer')
  const logged = lines.find(line => line.msg === 'readiness check failed')
  t.equal(logged?.store, 'redis', 'the log says which store')
  t.notMatch(raw(), /dead-redis-password/)

  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200)
  const registered = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: 'up@example.com', username: 'up', password: 'correct horse battery' } })
  t.equal(registered.statusCode, 201, 'normal requests keep being served')
})

t.test('GET /health/ready follows Redis: 200, 503 once it is gone, 200 once it is back', NEEDS_REDIS_SERVER, async t => {
  const redis = await ownRedis(t)
  const app = await build(t, { redisUrl: redis.url, redisKeyPrefix: uniqueKeyPrefix() })
  const ready = async () => (await app.inject({ url: '/health/ready' })).statusCode
  t.equal(await ready(), 200)
  await redis.stop()
  await waitUntil(async () => await ready() === 503, 15_000, 'not ready while Redis is down', t)
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200)
  await redis.start()
  await waitUntil(async () => await ready() === 200, 15_000, 'ready once Redis is back', t)
  t.pass('recovered without a restart')
})

t.test('a database ping that never answers makes /health/ready 503 at the deadline instead of hanging', async t => {
  const app = await build(t)
  app.repositories.health.ping = () => new Promise(() => {})
  const res = await app.inject({ url: '/health/ready' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'not_ready')
  t.equal(res.json().detail, 'The database does not answer.')
})

t.test('with the database and Redis both down, the answer says both', async t => {
  const app = await build(t, { redisUrl: await deadRedisUrl() })
  app.repositories.health.ping = async () => { throw new Error('connection terminated') }
  const res = await app.inject({ url: '/health/ready' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().detail, 'The database and Redis do not answer.')
})
