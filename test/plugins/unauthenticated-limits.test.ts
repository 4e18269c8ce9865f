// Every operation that a caller without an account or a token can reach is under a per-address limit.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, loginUser, newUser, registerUser, PASSWORD } from '../helper.js'
import { basic } from '../oauth-helper.js'

/**
 * Operations left without a limit, and why: each answers from memory (no database, no hashing),
 * is what infrastructure polls (load balancers, token verifiers), and a cache or proxy in front
 * absorbs floods of it better than a counter here.
 */
const EXEMPT = new Set([
  'GET /.well-known/jwks.json',
  'GET /.well-known/openid-configuration',
  'GET /.well-known/oauth-authorization-server',
  'GET /health/live',
  'GET /health/ready',
  'GET /api/auth/social/providers'
])

interface Operation { security?: Array<Record<string, string[]>>, responses: Record<string, unknown> }

t.test('every operation callable without credentials documents a 429, except the listed ones', async t => {
  const app = await build(t)
  const document = (await app.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, Operation>> }
  const open: string[] = []
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (typeof operation !== 'object' || !('responses' in operation)) continue
      const anonymous = operation.security === undefined || operation.security.length === 0 || operation.security.some(s => Object.keys(s).length === 0)
      const name = `${method.toUpperCase()} ${path}`
      if (!anonymous || EXEMPT.has(name)) continue
      open.push(name)
      t.ok('429' in operation.responses, `${name} documents 429`)
    }
  }
  t.ok(open.includes('POST /api/auth/token/verify'), 'the token check is among them')
  for (const name of EXEMPT) {
    const [method, path] = name.split(' ')
    t.ok(document.paths[path]?.[method.toLowerCase()], `${name} exists`)
  }
})

async function verifyToken (app: FastifyInstance, token: string, remoteAddress = '192.0.2.10') {
  return app.inject({ method: 'POST', url: '/api/auth/token/verify', payload: { token }, remoteAddress })
}

t.test('POST /api/auth/token/verify meets a 429 (RATE_LIMIT_VERIFY_IP), valid token or not', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_VERIFY_IP: '3/1m' } })
  const { access } = await loginUser(app)
  t.equal((await verifyToken(app, access)).statusCode, 200)
  t.equal((await verifyToken(app, 'not a token')).statusCode, 401)
  t.equal((await verifyToken(app, access)).statusCode, 200)
  const limited = await verifyToken(app, access)
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'rate_limited')
  t.match(String(limited.headers['retry-after']), /^[1-9]\d*$/)
  t.equal((await verifyToken(app, access, '192.0.2.11')).statusCode, 200, 'another address is not limited')
})

t.test('the default verify limit is there without configuration', async t => {
  // The test environment turns limits off; an empty variable means the default (600 a minute).
  const app = await build(t, {}, { env: { RATE_LIMIT_VERIFY_IP: '' } })
  let status = 0
  let calls = 0
  while (calls < 700 && status !== 429) {
    status = (await verifyToken(app, 'x')).statusCode
    calls++
  }
  t.equal(status, 429)
  t.equal(calls, 601, 'the 601st call in a minute is refused')
})

t.test('POST /api/auth/login requests of any outcome are limited per address (RATE_LIMIT_LOGIN_REQUESTS_IP)', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_LOGIN_REQUESTS_IP: '2/1m' } })
  const user = newUser()
  await registerUser(app, user)
  const login = () => app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD }, remoteAddress: '192.0.2.20' })
  t.equal((await login()).statusCode, 200)
  t.equal((await login()).statusCode, 200)
  const limited = await login()
  t.equal(limited.statusCode, 429, 'even the right password, once the address has made its requests')
  t.notOk(limited.headers['set-cookie'])
})

t.test('POST /api/auth/logout is limited per address like refresh (RATE_LIMIT_REFRESH_IP)', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_REFRESH_IP: '1/1m' } })
  const logout = () => app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh: 'guessed' }, remoteAddress: '192.0.2.30' })
  t.equal((await logout()).statusCode, 204)
  t.equal((await logout()).statusCode, 429)
})

t.test('GET /api/auth/revocations is limited per address before the client is authenticated (RATE_LIMIT_OAUTH_IP)', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_OAUTH_IP: '1/1m' } })
  const feed = () => app.inject({ url: '/api/auth/revocations', headers: basic('guessed-id', 'guessed-secret'), remoteAddress: '192.0.2.40' })
  t.equal((await feed()).statusCode, 401)
  t.equal((await feed()).statusCode, 429, 'guessing client secrets meets the limit')
})
