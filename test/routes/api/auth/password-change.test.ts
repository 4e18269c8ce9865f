import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, loginUser, newUser, bearer, PASSWORD } from '../../../helper.js'

const NEW_PASSWORD = 'battery staple horse'

function change (app: FastifyInstance, access: string, payload: Record<string, unknown>) {
  return app.inject({ method: 'POST', url: '/api/auth/password/change', headers: bearer(access), payload })
}

function login (app: FastifyInstance, email: string, password: string) {
  return app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } })
}

function refresh (app: FastifyInstance, token: string) {
  return app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: token } })
}

function me (app: FastifyInstance, access: string) {
  return app.inject({ url: '/api/auth/me', headers: bearer(access) })
}

t.test('changing the password answers 204: the old one stops working, the new one logs in', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await change(app, user.access, { current_password: PASSWORD, new_password: NEW_PASSWORD })
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')

  const old = await login(app, user.email, PASSWORD)
  t.equal(old.statusCode, 401)
  t.equal(old.json().code, 'invalid_credentials')
  const fresh = await login(app, user.email, NEW_PASSWORD)
  t.equal(fresh.statusCode, 200)
  t.equal(fresh.json().user.id, user.id)
})

t.test('every other session is revoked while the current one keeps refreshing', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const other = (await login(app, user.email, PASSWORD)).json()
  const bystander = await loginUser(app)

  t.equal((await change(app, user.access, { current_password: PASSWORD, new_password: NEW_PASSWORD })).statusCode, 204)

  const otherRefresh = await refresh(app, other.refresh)
  t.equal(otherRefresh.statusCode, 401, 'the other session\'s refresh token is dead')
  t.equal(otherRefresh.json().code, 'token_not_valid')
  t.equal((await me(app, other.access)).statusCode, 401, 'the other session\'s access token is dead')

  t.equal((await me(app, user.access)).statusCode, 200, 'the current access token still works')
  const current = await refresh(app, user.refresh)
  t.equal(current.statusCode, 200, 'the current session still refreshes')
  t.equal((await me(app, current.json().access)).statusCode, 200)

  t.equal((await refresh(app, bystander.refresh)).statusCode, 200, 'other users are unaffected')
})

t.test('a wrong current password is 403 invalid_credentials and changes nothing', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const other = (await login(app, user.email, PASSWORD)).json()
  const res = await change(app, user.access, { current_password: 'not the password', new_password: NEW_PASSWORD })
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'invalid_credentials')
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal((await login(app, user.email, PASSWORD)).statusCode, 200, 'the old password still works')
  t.equal((await login(app, user.email, NEW_PASSWORD)).statusCode, 401, 'the new one was not set')
  t.equal((await refresh(app, other.refresh)).statusCode, 200, 'no session was revoked')
})

t.test('a weak new password is 400 validation_failed on new_password and changes nothing', async t => {
  const app = await build(t)
  const user = await loginUser(app, newUser({ email: 'grace.hopper@example.com', username: 'grace_hopper' }))
  const weak: Array<[string, string]> = [
    ['too short', 'abc123!'],
    ['entirely numeric', '12345678901'],
    ['the email', 'grace.hopper@example.com'],
    ['the email in other case', 'Grace.Hopper@Example.com'],
    ['the username', 'grace_hopper'],
    ['the username in other case', 'GRACE_HOPPER'],
    ['over 72 bytes in UTF-8', '€'.repeat(25)]
  ]
  for (const [name, password] of weak) {
    const res = await change(app, user.access, { current_password: PASSWORD, new_password: password })
    t.equal(res.statusCode, 400, name)
    t.equal(res.json().code, 'validation_failed', name)
    const fields = res.json().errors.map((e: { field: string }) => e.field)
    t.ok(fields.length > 0 && fields.every((f: string) => f === 'new_password'), `${name}: errors name new_password`)
  }
  t.equal((await login(app, user.email, PASSWORD)).statusCode, 200, 'the password is unchanged')
})

t.test('a new password of exactly 72 bytes in UTF-8 is accepted and used in full', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const longest = '€'.repeat(24)
  t.equal(Buffer.byteLength(longest), 72)
  t.equal((await change(app, user.access, { current_password: PASSWORD, new_password: longest })).statusCode, 204)
  t.equal((await login(app, user.email, longest)).statusCode, 200)
  t.equal((await login(app, user.email, `${'€'.repeat(23)}$`)).statusCode, 401, 'the last character counts')
})

t.test('password change without an access token is 401', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await app.inject({ method: 'POST', url: '/api/auth/password/change', payload: { current_password: PASSWORD, new_password: NEW_PASSWORD } })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'not_authenticated')
  const withRefresh = await change(app, user.refresh, { current_password: PASSWORD, new_password: NEW_PASSWORD })
  t.equal(withRefresh.statusCode, 401)
  t.equal(withRefresh.json().code, 'token_not_valid')
  t.equal((await login(app, user.email, PASSWORD)).statusCode, 200, 'the password is unchanged')
})

t.test('password change with a missing or unknown field is 400 validation_failed', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ new_password: NEW_PASSWORD }, 'current_password'],
    [{ current_password: PASSWORD }, 'new_password'],
    [{ current_password: PASSWORD, new_password: NEW_PASSWORD, logout_others: false }, 'logout_others'],
    [{ current_password: PASSWORD, password: NEW_PASSWORD }, 'password']
  ]
  for (const [payload, field] of cases) {
    const res = await change(app, user.access, payload)
    t.equal(res.statusCode, 400, field)
    t.equal(res.json().code, 'validation_failed')
    t.ok(res.json().errors.some((e: { field: string }) => e.field === field), `names ${field}`)
  }
  t.equal((await login(app, user.email, PASSWORD)).statusCode, 200, 'the password is unchanged')
})
