import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import configPlugin from '../../plugins/config.js'
import errorHandlerPlugin from '../../plugins/error-handler.js'
import dbPlugin from '../../plugins/db.js'
import rateLimitPlugin from '../../plugins/rate-limit.js'
import redisPlugin from '../../plugins/redis.js'
import { createMemoryAttemptStore, type AttemptStore } from '../../src/limits/attempt-counter.js'
import { build, newUser, registerUser, testConfig, PASSWORD } from '../helper.js'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]
type Reply = Awaited<ReturnType<FastifyInstance['inject']>>

const LOGIN = '/api/auth/login'
const START = new Date('2030-01-01T00:00:00.000Z')

/** A 429 in the contract's form, with a Retry-After of whole seconds within the window; returns the body. */
function assertLimited (t: Test, res: Reply, windowSeconds: number) {
  t.equal(res.statusCode, 429, 'answered 429')
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  const body = res.json()
  t.equal(body.type, 'about:blank')
  t.equal(body.title, 'Too Many Requests')
  t.equal(body.status, 429)
  t.equal(body.code, 'rate_limited')
  t.type(body.detail, 'string')
  const retryAfter = String(res.headers['retry-after'])
  t.match(retryAfter, /^[1-9]\d*$/, 'Retry-After is a positive whole number of seconds')
  t.ok(Number(retryAfter) <= windowSeconds, `Retry-After ${retryAfter} is within the ${windowSeconds} s window`)
  return body
}

/** The 429 without the seconds in its detail: two limits that opened a few ms apart may round differently. */
function withoutSeconds (res: Reply) {
  const body = res.json()
  return { ...body, detail: String(body.detail).replace(/\d+/g, 'N') }
}

function login (app: FastifyInstance, payload: Record<string, string>, remoteAddress = '127.0.0.1') {
  return app.inject({ method: 'POST', url: LOGIN, payload, remoteAddress })
}

function resetRequest (app: FastifyInstance, email: string, remoteAddress = '127.0.0.1') {
  return app.inject({ method: 'POST', url: '/api/auth/password/reset', payload: { email }, remoteAddress })
}

function resendRequest (app: FastifyInstance, email: string, remoteAddress = '127.0.0.1') {
  return app.inject({ method: 'POST', url: '/api/auth/verify-email/resend', payload: { email }, remoteAddress })
}

/** A cheap route with a per-address limit: checking a reset link (always invalid_token here). */
function checkResetLink (app: FastifyInstance, options: { remoteAddress?: string, forwardedFor?: string } = {}) {
  return app.inject({
    method: 'GET',
    url: '/api/auth/password/reset/confirm?token=nope',
    remoteAddress: options.remoteAddress ?? '127.0.0.1',
    headers: options.forwardedFor === undefined ? {} : { 'x-forwarded-for': options.forwardedFor }
  })
}

// Login failures per account

t.test('after 5 failed logins (the default) the account is limited: the right password gets the same 429 as a wrong one', async t => {
  // An empty variable means the default, 5 in 5 minutes.
  const app = await build(t, {}, { now: () => START, env: { RATE_LIMIT_LOGIN_ACCOUNT: '' } })
  const user = await registerUser(app)
  for (let i = 0; i < 5; i++) {
    const res = await login(app, { email: user.email, password: 'wrong password' })
    t.equal(res.statusCode, 401, `failure ${i + 1} is 401`)
  }
  const wrong = await login(app, { email: user.email, password: 'wrong password' })
  const right = await login(app, { email: user.email, password: PASSWORD })
  assertLimited(t, wrong, 300)
  assertLimited(t, right, 300)
  t.equal(wrong.headers['retry-after'], '300', 'the whole window is left on a still clock')
  t.equal(right.body, wrong.body, 'identical bodies')
  t.equal(right.headers['retry-after'], wrong.headers['retry-after'])
  t.equal(right.headers['content-type'], wrong.headers['content-type'])
  t.notOk(right.headers['set-cookie'], 'no cookie for a limited login')
  t.notOk(right.body.includes('access'), 'no token in the body')
})

t.test('the limit of one account does not touch another account from the same address', async t => {
  const app = await build(t, {}, { now: () => START, env: { RATE_LIMIT_LOGIN_ACCOUNT: '2/5m' } })
  const victim = await registerUser(app)
  const other = await registerUser(app)
  for (let i = 0; i < 2; i++) await login(app, { email: victim.email, password: 'wrong password' })
  assertLimited(t, await login(app, { email: victim.email, password: PASSWORD }), 300)
  const res = await login(app, { email: other.email, password: PASSWORD })
  t.equal(res.statusCode, 200)
  const wrong = await login(app, { email: other.email, password: 'wrong password' })
  t.equal(wrong.statusCode, 401)
})

t.test('failures count per account whether the client gives the email or the username', async t => {
  const app = await build(t, {}, { now: () => START, env: { RATE_LIMIT_LOGIN_ACCOUNT: '4/5m' } })
  const user = await registerUser(app, newUser({ username: 'Alternating' }))
  const attempts: Array<Record<string, string>> = [
    { email: user.email },
    { username: 'Alternating' },
    { email: ` ${user.email.toUpperCase()}` },
    { username: 'alternating' }
  ]
  for (const identifier of attempts) {
    const res = await login(app, { ...identifier, password: 'wrong password' })
    t.equal(res.statusCode, 401)
  }
  assertLimited(t, await login(app, { username: 'ALTERNATING', password: PASSWORD }), 300)
  assertLimited(t, await login(app, { email: user.email, password: PASSWORD }), 300)
})

t.test('unknown accounts are limited too, with the same 429 as an existing account', async t => {
  const app = await build(t, {}, { now: () => START, env: { RATE_LIMIT_LOGIN_ACCOUNT: '2/5m' } })
  const user = await registerUser(app)
  for (let i = 0; i < 2; i++) {
    t.equal((await login(app, { email: 'nobody@example.com', password: 'wrong password' })).statusCode, 401)
    t.equal((await login(app, { email: user.email, password: 'wrong password' })).statusCode, 401)
  }
  const unknown = await login(app, { email: 'NOBODY@example.com', password: 'wrong password' })
  const known = await login(app, { email: user.email, password: 'wrong password' })
  assertLimited(t, unknown, 300)
  t.equal(unknown.body, known.body, 'an unknown account cannot be told from a known one by its 429')
  t.equal(unknown.headers['retry-after'], known.headers['retry-after'])
  for (let i = 0; i < 2; i++) await login(app, { username: 'nobody', password: 'wrong password' })
  assertLimited(t, await login(app, { username: 'Nobody', password: 'wrong password' }), 300)
})

t.test('a successful login before the limit clears the account\'s failures', async t => {
  const app = await build(t, {}, { now: () => START, env: { RATE_LIMIT_LOGIN_ACCOUNT: '3/5m' } })
  const user = await registerUser(app)
  for (let i = 0; i < 2; i++) await login(app, { email: user.email, password: 'wrong password' })
  t.equal((await login(app, { email: user.email, password: PASSWORD })).statusCode, 200)
  for (let i = 0; i < 3; i++) {
    const res = await login(app, { email: user.email, password: 'wrong password' })
    t.equal(res.statusCode, 401, `failure ${i + 1} after the success is counted from zero`)
  }
  assertLimited(t, await login(app, { email: user.email, password: PASSWORD }), 300)
})

t.test('the account limit lifts when its window has passed', async t => {
  let clock = START
  const app = await build(t, {}, { now: () => clock, env: { RATE_LIMIT_LOGIN_ACCOUNT: '2/5m' } })
  const user = await registerUser(app)
  for (let i = 0; i < 2; i++) await login(app, { email: user.email, password: 'wrong password' })
  assertLimited(t, await login(app, { email: user.email, password: PASSWORD }), 300)

  clock = new Date(START.getTime() + 4 * 60_000)
  const later = await login(app, { email: user.email, password: PASSWORD })
  assertLimited(t, later, 300)
  t.equal(later.headers['retry-after'], '60', 'Retry-After counts down with the window')

  clock = new Date(START.getTime() + 5 * 60_000 - 1)
  assertLimited(t, await login(app, { email: user.email, password: PASSWORD }), 300)

  clock = new Date(START.getTime() + 5 * 60_000)
  const res = await login(app, { email: user.email, password: PASSWORD })
  t.equal(res.statusCode, 200, 'allowed again once the window is over')
})

t.test('"off" turns the login failure limits off', async t => {
  const app = await build(t, {}, { now: () => START, env: { RATE_LIMIT_LOGIN_ACCOUNT: 'off', RATE_LIMIT_LOGIN_IP: 'off' } })
  const user = await registerUser(app)
  for (let i = 0; i < 6; i++) {
    const res = await login(app, { email: user.email, password: 'wrong password' })
    t.equal(res.statusCode, 401)
  }
  t.equal((await login(app, { email: user.email, password: PASSWORD })).statusCode, 200)
})

// Login failures per address

t.test('failures on many accounts from one address limit that address, not another', async t => {
  const app = await build(t, {}, { now: () => START, env: { RATE_LIMIT_LOGIN_ACCOUNT: '5/5m', RATE_LIMIT_LOGIN_IP: '3/1m' } })
  const user = await registerUser(app)
  for (let i = 0; i < 3; i++) {
    const res = await login(app, { email: `stranger${i}@example.com`, password: 'wrong password' }, '10.0.0.5')
    t.equal(res.statusCode, 401)
  }
  const limited = await login(app, { email: user.email, password: PASSWORD }, '10.0.0.5')
  assertLimited(t, limited, 60)
  t.equal(limited.headers['retry-after'], '60')
  assertLimited(t, await login(app, { email: 'fresh@example.com', password: 'wrong password' }, '10.0.0.5'), 60)

  const elsewhere = await login(app, { email: user.email, password: PASSWORD }, '10.0.0.6')
  t.equal(elsewhere.statusCode, 200, 'the account itself is not limited from another address')
})

t.test('registration is limited per address', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_REGISTER_IP: '2/1m' } })
  const register = (remoteAddress: string) => app.inject({ method: 'POST', url: '/api/auth/register', payload: newUser(), remoteAddress })
  t.equal((await register('10.0.0.7')).statusCode, 201)
  t.equal((await register('10.0.0.7')).statusCode, 201)
  const limited = await register('10.0.0.7')
  assertLimited(t, limited, 60)
  t.equal((await register('10.0.0.8')).statusCode, 201, 'another address registers')
})

t.test('the default registration limit is 20 a minute per address', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_REGISTER_IP: '' } })
  const register = () => app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: 'x', username: 'x', password: 'x' }, remoteAddress: '10.0.0.9' })
  for (let i = 0; i < 20; i++) t.equal((await register()).statusCode, 400)
  assertLimited(t, await register(), 60)
})

t.test('token refresh is limited per address', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_REFRESH_IP: '2/1m' } })
  const refresh = (remoteAddress: string) => app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: 'not a token' }, remoteAddress })
  t.equal((await refresh('10.0.0.7')).statusCode, 401)
  t.equal((await refresh('10.0.0.7')).statusCode, 401)
  assertLimited(t, await refresh('10.0.0.7'), 60)
  t.equal((await refresh('10.0.0.8')).statusCode, 401, 'another address is answered')
})

t.test('the verification and reset-confirmation routes are limited per address', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_TOKEN_IP: '2/1m' } })
  const requests = [
    { method: 'GET' as const, url: '/api/auth/verify-email?token=nope' },
    { method: 'POST' as const, url: '/api/auth/verify-email', payload: { token: 'nope' } },
    { method: 'GET' as const, url: '/api/auth/password/reset/confirm?token=nope' },
    { method: 'POST' as const, url: '/api/auth/password/reset/confirm', payload: { token: 'nope', new_password: 'a new password' } }
  ]
  for (const request of requests) {
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({ ...request, remoteAddress: '10.0.0.7' })
      t.equal(res.statusCode, 400, `${request.method} ${request.url}: attempt ${i + 1} is answered`)
      t.equal(res.json().code, 'invalid_token')
    }
    assertLimited(t, await app.inject({ ...request, remoteAddress: '10.0.0.7' }), 60)
    const elsewhere = await app.inject({ ...request, remoteAddress: '10.0.0.8' })
    t.equal(elsewhere.statusCode, 400, `${request.method} ${request.url}: another address is not limited`)
  }
})

t.test('"off" turns a per-address limit off, and leaves no rate-limit headers', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_TOKEN_IP: 'off' } })
  for (let i = 0; i < 40; i++) {
    const res = await checkResetLink(app)
    t.equal(res.statusCode, 400)
    t.notOk(res.headers['x-ratelimit-limit'])
  }
})

// Reset and resend: per target address and per client address

t.test('password reset is limited per target address from any client address, with the same 429 for unknown addresses', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_EMAIL_ADDRESS: '3/1m' } })
  const victim = await registerUser(app)
  for (let i = 0; i < 3; i++) {
    t.equal((await resetRequest(app, victim.email, `10.0.1.${i}`)).statusCode, 202)
    t.equal((await resetRequest(app, 'nobody@example.com', `10.0.1.${i}`)).statusCode, 202)
  }
  const known = await resetRequest(app, victim.email.toUpperCase(), '10.0.1.99')
  const unknown = await resetRequest(app, 'nobody@example.com', '10.0.1.99')
  assertLimited(t, known, 60)
  assertLimited(t, unknown, 60)
  t.same(withoutSeconds(unknown), withoutSeconds(known), 'an unknown address cannot be told from a known one by its 429')
  t.same(Object.keys(unknown.headers).sort(), Object.keys(known.headers).sort(), 'the same headers')
  t.equal((await resetRequest(app, 'someone.else@example.com', '10.0.1.99')).statusCode, 202, 'another address is not limited')
})

t.test('resending the verification mail is limited per target address, with the same 429 for unknown addresses', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_EMAIL_ADDRESS: '2/1m' } })
  const victim = await registerUser(app)
  for (let i = 0; i < 2; i++) {
    t.equal((await resendRequest(app, victim.email, `10.0.2.${i}`)).statusCode, 202)
    t.equal((await resendRequest(app, 'nobody@example.com', `10.0.2.${i}`)).statusCode, 202)
  }
  const known = await resendRequest(app, ` ${victim.email.toUpperCase()} `, '10.0.2.50')
  const unknown = await resendRequest(app, 'nobody@example.com', '10.0.2.50')
  assertLimited(t, known, 60)
  assertLimited(t, unknown, 60)
  t.same(withoutSeconds(unknown), withoutSeconds(known))
  t.equal((await resendRequest(app, 'someone.else@example.com', '10.0.2.50')).statusCode, 202, 'another address is not limited')
})

t.test('the default per-target limit is 5 a minute', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_EMAIL_ADDRESS: '' } })
  for (let i = 0; i < 5; i++) t.equal((await resetRequest(app, 'target@example.com', `10.0.3.${i}`)).statusCode, 202)
  assertLimited(t, await resetRequest(app, 'target@example.com', '10.0.3.99'), 60)
})

t.test('password reset and resend are limited per client address across target addresses', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_EMAIL_IP: '2/1m' } })
  for (const send of [resetRequest, resendRequest]) {
    t.equal((await send(app, 'one@example.com', '10.0.4.1')).statusCode, 202)
    t.equal((await send(app, 'two@example.com', '10.0.4.1')).statusCode, 202)
    assertLimited(t, await send(app, 'three@example.com', '10.0.4.1'), 60)
    t.equal((await send(app, 'three@example.com', '10.0.4.2')).statusCode, 202, 'another client address is not limited')
  }
})

t.test('"off" turns the per-target limit off', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_EMAIL_ADDRESS: 'off' } })
  for (let i = 0; i < 12; i++) t.equal((await resetRequest(app, 'target@example.com', `10.0.5.${i}`)).statusCode, 202)
})

// TRUST_PROXY

t.test('without TRUST_PROXY, X-Forwarded-For is ignored: one peer shares one limit', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_TOKEN_IP: '1/1m' } })
  t.equal((await checkResetLink(app, { forwardedFor: '203.0.113.1' })).statusCode, 400)
  assertLimited(t, await checkResetLink(app, { forwardedFor: '203.0.113.2' }), 60)
  assertLimited(t, await checkResetLink(app), 60)
})

t.test('with TRUST_PROXY naming the peer, each forwarded client has its own limit', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_TOKEN_IP: '1/1m', TRUST_PROXY: '127.0.0.1' } })
  t.equal((await checkResetLink(app, { forwardedFor: '203.0.113.1' })).statusCode, 400)
  t.equal((await checkResetLink(app, { forwardedFor: '203.0.113.2' })).statusCode, 400)
  assertLimited(t, await checkResetLink(app, { forwardedFor: '203.0.113.1' }), 60)
})

t.test('TRUST_PROXY takes a list of addresses and CIDRs', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_TOKEN_IP: '1/1m', TRUST_PROXY: '127.0.0.1, 10.0.0.0/8' } })
  t.equal((await checkResetLink(app, { remoteAddress: '10.1.2.3', forwardedFor: '203.0.113.1' })).statusCode, 400)
  t.equal((await checkResetLink(app, { remoteAddress: '10.1.2.3', forwardedFor: '203.0.113.2' })).statusCode, 400)
  assertLimited(t, await checkResetLink(app, { remoteAddress: '10.200.0.1', forwardedFor: '203.0.113.2' }), 60)
})

t.test('X-Forwarded-For from a peer that TRUST_PROXY does not name is ignored', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_TOKEN_IP: '1/1m', TRUST_PROXY: '10.0.0.0/8' } })
  t.equal((await checkResetLink(app, { remoteAddress: '192.0.2.50', forwardedFor: '203.0.113.1' })).statusCode, 400)
  assertLimited(t, await checkResetLink(app, { remoteAddress: '192.0.2.50', forwardedFor: '203.0.113.2' }), 60)
})

t.test('a TRUST_PROXY hop count trusts that many proxies and no more', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_TOKEN_IP: '1/1m', TRUST_PROXY: '1' } })
  t.equal((await checkResetLink(app, { remoteAddress: '192.0.2.50', forwardedFor: '203.0.113.1' })).statusCode, 400)
  t.equal((await checkResetLink(app, { remoteAddress: '192.0.2.50', forwardedFor: '203.0.113.2' })).statusCode, 400, 'another forwarded client')
  // One hop: the entry the proxy appended counts, what the client wrote before it does not.
  assertLimited(t, await checkResetLink(app, { remoteAddress: '192.0.2.50', forwardedFor: 'spoofed, 203.0.113.2' }), 60)
})

t.test('a TRUST_PROXY hop count of 2 reaches one entry further', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_TOKEN_IP: '1/1m', TRUST_PROXY: '2' } })
  t.equal((await checkResetLink(app, { forwardedFor: '203.0.113.1, 10.0.0.1' })).statusCode, 400)
  t.equal((await checkResetLink(app, { forwardedFor: '203.0.113.2, 10.0.0.1' })).statusCode, 400)
  assertLimited(t, await checkResetLink(app, { forwardedFor: '203.0.113.1, 10.0.0.2' }), 60)
})

t.test('login failures per address count the forwarded client behind a trusted proxy', async t => {
  const app = await build(t, {}, { now: () => START, env: { RATE_LIMIT_LOGIN_IP: '2/1m', TRUST_PROXY: '127.0.0.1' } })
  const user = await registerUser(app)
  const viaProxy = (forwardedFor: string, password: string) =>
    app.inject({ method: 'POST', url: LOGIN, payload: { email: user.email, password }, headers: { 'x-forwarded-for': forwardedFor } })
  t.equal((await viaProxy('203.0.113.1', 'wrong password')).statusCode, 401)
  t.equal((await viaProxy('203.0.113.1', 'wrong password')).statusCode, 401)
  assertLimited(t, await viaProxy('203.0.113.1', PASSWORD), 60)
  t.equal((await viaProxy('203.0.113.2', PASSWORD)).statusCode, 200)
})

// The store is pluggable

t.test('the plugin takes another attempt store for the per-account and per-target limits, and closes it', async t => {
  const memory = createMemoryAttemptStore()
  const keys: string[] = []
  let closed = false
  const store: AttemptStore = {
    increment: (key, windowMs, now) => { keys.push(key); return memory.increment(key, windowMs, now) },
    get: (key, now) => memory.get(key, now),
    decrement: (key, now) => memory.decrement(key, now),
    delete: key => memory.delete(key),
    close: async () => { closed = true; await memory.close() }
  }
  const app = Fastify()
  await app.register(errorHandlerPlugin)
  await app.register(configPlugin, { config: testConfig() })
  await app.register(dbPlugin)
  await app.register(redisPlugin)
  await app.register(rateLimitPlugin, { attemptStore: store })
  await app.ready()
  t.equal(app.attemptStore, store)

  const limit = { max: 1, windowSeconds: 60 }
  await app.limitPerTarget('bucket', 'target@example.com', limit)
  await t.rejects(app.limitPerTarget('bucket', 'target@example.com', limit), { statusCode: 429, code: 'rate_limited' })
  await app.limitPerTarget('bucket', 'target@example.com', { max: 0, windowSeconds: 60 })
  t.same(keys, ['bucket:target@example.com', 'bucket:target@example.com'], 'an "off" limit counts nothing')
  t.same(app.perIpLimit({ max: 0, windowSeconds: 60 }), false)
  t.same(app.perIpLimit({ max: 3, windowSeconds: 60 }), { max: 3, timeWindow: 60_000 })

  await app.close()
  t.ok(closed, 'the store is closed with the app')
})
