// Every counter shared by all instances: two apps on one Redis (or, without Redis, on one PostgreSQL
// database) meet each limit as if they were one; while Redis is down the limits keep counting.
import t from 'tap'
import { Redis } from 'ioredis'
import type { FastifyInstance } from 'fastify'
import { build, ON_POSTGRES, PASSWORD, registerUser, testDatabaseUrl } from '../helper.js'
import { waitUntil } from '../wait-until.js'
import { loggedApp, WARN, type LogLine } from './logged-app.js'
import { deadRedisUrl, NEEDS_REDIS, NEEDS_REDIS_SERVER, ownRedis, TEST_REDIS_URL, uniqueKeyPrefix } from './redis-server.js'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const POSTGRES_ONLY = { skip: !ON_POSTGRES && 'PostgreSQL only (set TEST_DATABASE_URL): without Redis, SQLite\'s single instance counts in memory' }

function login (app: FastifyInstance, email: string, password: string, remoteAddress = '127.0.0.1') {
  return app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password }, remoteAddress })
}

/** A cheap route with a per-address limit (RATE_LIMIT_TOKEN_IP): checking a reset link, always 400 here. */
function checkResetLink (app: FastifyInstance, remoteAddress = '127.0.0.1') {
  return app.inject({ url: '/api/auth/password/reset/confirm?token=nope', remoteAddress })
}

function resetRequest (app: FastifyInstance, email: string, remoteAddress: string) {
  return app.inject({ method: 'POST', url: '/api/auth/password/reset', payload: { email }, remoteAddress })
}

/** Two apps on one database (fresh, of either kind) with the same `overrides` and limits. */
async function twoApps (t: Test, overrides: Record<string, unknown>, env: Record<string, string>) {
  const databaseUrl = await testDatabaseUrl(t)
  const a = await build(t, { databaseUrl, ...overrides }, { env })
  const b = await build(t, { databaseUrl, ...overrides }, { env })
  return [a, b] as const
}

/** What two apps must share: a per-address limit, the login throttle, and a per-target mail limit, requests split between them. */
async function assertSharedLimits (t: Test, a: FastifyInstance, b: FastifyInstance) {
  t.equal((await checkResetLink(a, '10.9.0.1')).statusCode, 400)
  t.equal((await checkResetLink(b, '10.9.0.1')).statusCode, 400)
  t.equal((await checkResetLink(a, '10.9.0.1')).statusCode, 400)
  const limited = await checkResetLink(b, '10.9.0.1')
  t.equal(limited.statusCode, 429, 'the 4th request of one address is over 3/1m whichever app answers it')
  t.equal(limited.json().code, 'rate_limited')
  t.match(String(limited.headers['retry-after']), /^[1-9]\d*$/)
  t.equal((await checkResetLink(a, '10.9.0.1')).statusCode, 429)
  t.equal((await checkResetLink(a, '10.9.0.2')).statusCode, 400, 'another address is not limited')

  const user = await registerUser(a)
  t.equal((await login(a, user.email, 'wrong password', '10.9.1.1')).statusCode, 401)
  t.equal((await login(b, user.email, 'wrong password', '10.9.1.2')).statusCode, 401)
  t.equal((await login(a, user.email, 'wrong password', '10.9.1.3')).statusCode, 401)
  const right = await login(b, user.email, PASSWORD, '10.9.1.4')
  t.equal(right.statusCode, 429, 'three failures split over two apps limit the account on both, the right password too')
  t.equal((await login(a, user.email, PASSWORD, '10.9.1.5')).statusCode, 429)

  for (let i = 0; i < 2; i++) {
    t.equal((await resetRequest(a, 'target@example.com', `10.9.2.${i}`)).statusCode, 202)
    t.equal((await resetRequest(b, 'target@example.com', `10.9.3.${i}`)).statusCode, 202)
  }
  t.equal((await resetRequest(a, 'target@example.com', '10.9.4.1')).statusCode, 429, 'the 5th mail to one address is over 4/1m')
}

const LIMITS = { RATE_LIMIT_TOKEN_IP: '3/1m', RATE_LIMIT_LOGIN_ACCOUNT: '3/5m', RATE_LIMIT_EMAIL_ADDRESS: '4/1m' }

// One Redis

t.test('two apps on one Redis meet the per-address, login and per-target limits as if they were one', NEEDS_REDIS, async t => {
  const [a, b] = await twoApps(t, { redisUrl: TEST_REDIS_URL, redisKeyPrefix: uniqueKeyPrefix() }, LIMITS)
  await assertSharedLimits(t, a, b)
})

t.test('the per-address limit of failed logins is shared too, and a success on one app clears the account on the other', NEEDS_REDIS, async t => {
  const [a, b] = await twoApps(t, { redisUrl: TEST_REDIS_URL, redisKeyPrefix: uniqueKeyPrefix() }, { RATE_LIMIT_LOGIN_ACCOUNT: '3/5m', RATE_LIMIT_LOGIN_IP: '4/1m' })
  const user = await registerUser(a)
  t.equal((await login(a, user.email, 'wrong password')).statusCode, 401)
  t.equal((await login(b, user.email, 'wrong password')).statusCode, 401)
  t.equal((await login(b, user.email, PASSWORD)).statusCode, 200, 'a success on B')
  t.equal((await login(a, user.email, 'wrong password')).statusCode, 401)
  t.equal((await login(a, user.email, 'wrong password')).statusCode, 401, 'A counts the account from zero again')
  t.equal((await login(b, 'nobody@example.com', 'wrong password')).statusCode, 429, 'but the address has failed four times on the two')
})

t.test('apps under other key prefixes share nothing', NEEDS_REDIS, async t => {
  const a = await build(t, { redisUrl: TEST_REDIS_URL, redisKeyPrefix: uniqueKeyPrefix() }, { env: { RATE_LIMIT_TOKEN_IP: '1/1m' } })
  const b = await build(t, { redisUrl: TEST_REDIS_URL, redisKeyPrefix: uniqueKeyPrefix() }, { env: { RATE_LIMIT_TOKEN_IP: '1/1m' } })
  t.equal((await checkResetLink(a)).statusCode, 400)
  t.equal((await checkResetLink(b)).statusCode, 400)
  t.equal((await checkResetLink(a)).statusCode, 429)
})

t.test('with Redis the counters are in Redis, under the prefix, and not in the database', NEEDS_REDIS, async t => {
  const prefix = uniqueKeyPrefix()
  const app = await build(t, { redisUrl: TEST_REDIS_URL, redisKeyPrefix: prefix }, { env: LIMITS })
  const raw = new Redis(TEST_REDIS_URL!)
  t.teardown(() => raw.quit())
  await checkResetLink(app)
  await login(app, 'nobody@example.com', 'wrong password')
  await resetRequest(app, 'target@example.com', '10.0.0.1')
  t.equal((await raw.keys(`${prefix}attempts:*`)).length, 3, 'one counter per limit')
  if (app.repositories.attempts !== undefined) {
    t.equal(await app.repositories.attempts.prune(new Date(Date.now() + 86_400_000), 100), 0, 'the database holds none')
  }
})

// Redis down

t.test('with Redis down the limits keep counting here, the outage is logged once, and requests are served', async t => {
  const url = await deadRedisUrl()
  const { app, lines, raw } = await loggedApp(t, { redisUrl: url }, LIMITS)
  const user = await registerUser(app)
  for (let i = 0; i < 3; i++) t.equal((await login(app, user.email, 'wrong password')).statusCode, 401)
  const limited = await login(app, user.email, PASSWORD)
  t.equal(limited.statusCode, 429, 'the login throttle did not disappear')
  t.equal(limited.json().code, 'rate_limited')
  for (let i = 0; i < 3; i++) t.equal((await checkResetLink(app)).statusCode, 400)
  t.equal((await checkResetLink(app)).statusCode, 429, 'nor the per-address limits')
  for (let i = 0; i < 4; i++) t.equal((await resetRequest(app, 'target@example.com', `10.0.0.${i}`)).statusCode, 202)
  t.equal((await resetRequest(app, 'target@example.com', '10.0.1.1')).statusCode, 429, 'nor the per-target ones')

  const outage = lines.filter((line: LogLine) => /the limits count in/.test(line.msg))
  t.equal(outage.length, 1, 'one warning for the outage however many requests')
  t.equal(outage[0].level, WARN)
  t.match(outage[0].msg, ON_POSTGRES ? /the database/ : /memory/)
  t.notMatch(raw(), /dead-redis-password/, 'the password is in no log line')
  t.notOk(lines.some(line => line.level > WARN), 'nothing logged as an error: the requests were served')
})

t.test('an outage in the middle: counting goes on in the fallback, and back to Redis when it answers, logged once each way', NEEDS_REDIS_SERVER, async t => {
  const redis = await ownRedis(t)
  const prefix = uniqueKeyPrefix()
  const { app, lines } = await loggedApp(t, { redisUrl: redis.url, redisKeyPrefix: prefix }, { RATE_LIMIT_LOGIN_ACCOUNT: '2/5m' })
  const user = await registerUser(app)
  t.equal((await login(app, user.email, 'wrong password')).statusCode, 401, 'counted in Redis')

  await redis.stop()
  await waitUntil(() => app.redis!.status !== 'ready', 15_000, 'the client to see the outage', t)
  t.equal((await login(app, user.email, 'wrong password')).statusCode, 401)
  t.equal((await login(app, user.email, 'wrong password')).statusCode, 401)
  t.equal((await login(app, user.email, PASSWORD)).statusCode, 429, 'limited through the outage')

  await redis.start()
  const recovered = () => lines.some(line => /Redis answers again/.test(line.msg))
  // Any use of the store tries Redis again (at most once a second while it failed).
  await waitUntil(async () => { await app.attemptStore.get('probe', Date.now()); return recovered() }, 15_000, 'the limits to use Redis again', t)
  t.equal(lines.filter(line => /the limits count in/.test(line.msg)).length, 1, 'one warning for the outage')
  t.equal(lines.filter(line => /Redis answers again/.test(line.msg)).length, 1, 'one for the recovery')
  t.equal(lines.find(line => /Redis answers again/.test(line.msg))?.level, WARN)

  const raw = new Redis(redis.url)
  t.teardown(() => raw.quit())
  t.same(await raw.keys(`${prefix}*`), [], 'the restarted Redis is empty')
  t.equal((await login(app, 'nobody@example.com', 'wrong password')).statusCode, 401)
  t.equal((await raw.keys(`${prefix}attempts:*`)).length, 1, 'new failures count in Redis again')
})

// One PostgreSQL database, no Redis

t.test('without Redis, two apps on one PostgreSQL database meet every limit as if they were one', POSTGRES_ONLY, async t => {
  const [a, b] = await twoApps(t, {}, LIMITS)
  t.equal(a.redis, null)
  t.ok(a.repositories.attempts, 'the database keeps the counters')
  await assertSharedLimits(t, a, b)
})

t.test('with Redis down, two apps on one PostgreSQL database fall back to it and still share every limit', POSTGRES_ONLY, async t => {
  const [a, b] = await twoApps(t, { redisUrl: await deadRedisUrl() }, LIMITS)
  await assertSharedLimits(t, a, b)
})
