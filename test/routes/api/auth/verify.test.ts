import t from 'tap'
import { randomUUID, sign } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { build, loginUser, testPrivateKey } from '../../../helper.js'

function verify (app: FastifyInstance, payload: unknown) {
  return app.inject({ method: 'POST', url: '/api/auth/token/verify', payload: payload as Record<string, unknown> })
}

/** The access token with its claims changed, signed again by hand with the app's real key. */
function resigned (access: string, changes: Record<string, unknown>): string {
  const [header, payload] = access.split('.')
  const claims = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), jti: randomUUID(), ...changes }
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  return `${input}.${sign('sha256', Buffer.from(input), testPrivateKey()).toString('base64url')}`
}

t.test('a valid access token verifies as 200 {}', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await verify(app, { token: user.access })
  t.equal(res.statusCode, 200)
  t.same(res.json(), {})
  const handSigned = await verify(app, { token: resigned(user.access, {}) })
  t.equal(handSigned.statusCode, 200, 'a token signed by hand with the real key is good (so the forged ones below are fair)')
})

t.test('a refresh token, garbage or a tampered token is 401 token_not_valid', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const [h, p, s] = user.access.split('.')
  const tampered = `${h}.${p}.${s.slice(0, -4)}${s.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`
  for (const [name, token] of [['refresh token', user.refresh], ['garbage', 'garbage'], ['three dots', 'a.b.c'], ['tampered', tampered]]) {
    const res = await verify(app, { token })
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().code, 'token_not_valid', name)
    t.match(res.headers['www-authenticate'], /^Bearer .*error="invalid_token"/, name)
  }
})

t.test('an expired access token is 401 token_not_valid', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const iat = Math.floor(Date.now() / 1000) - 6 * 60
  const res = await verify(app, { token: resigned(user.access, { iat, exp: iat + 300 }) })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'token_not_valid')
})

t.test('a token of another type is 401 token_not_valid even when correctly signed', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await verify(app, { token: resigned(user.access, { token_type: 'refresh' }) })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'token_not_valid')
})

t.test('the access token of a logged-out session is 401 token_not_valid', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const other = await loginUser(app)
  const logout = await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh: user.refresh } })
  t.equal(logout.statusCode, 204)
  const res = await verify(app, { token: user.access })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'token_not_valid')
  t.equal((await verify(app, { token: other.access })).statusCode, 200, 'another session is unaffected')
})

t.test('the access token of a disabled account is 401 token_not_valid', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  await app.repositories.users.update(user.id, { isActive: false })
  const res = await verify(app, { token: user.access })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'token_not_valid')
})

t.test('a missing token, an empty token, a non-string or an extra field is 400 validation_failed', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const cases: Array<[string, unknown, string]> = [
    ['empty object', {}, 'token'],
    ['empty string', { token: '' }, 'token'],
    ['a number', { token: 42 }, 'token'],
    ['an extra field', { token: user.access, refresh: user.refresh }, 'refresh'],
    ['another name', { access: user.access }, 'access']
  ]
  for (const [name, payload, field] of cases) {
    const res = await verify(app, payload)
    t.equal(res.statusCode, 400, name)
    t.equal(res.json().code, 'validation_failed', name)
    t.ok(res.json().errors.some((e: { field: string }) => e.field === field), `${name}: names ${field}`)
  }
  const noBody = await app.inject({ method: 'POST', url: '/api/auth/token/verify' })
  t.equal(noBody.statusCode, 400, 'no body at all')
})
