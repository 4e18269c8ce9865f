// Django's password validators on every route that sets a password, and the breached-password check against a local fake API.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { bearer, build, loginUser, newUser } from '../../../helper.js'
import { loggedApp, WARN } from '../../../limits/logged-app.js'
import { fakeRangeApi, rangeAnswer } from '../../../passwords/fake-range-api.js'

const BREACHED = 'Tr0ub4dor&3 horse'

function register (app: FastifyInstance, body: Record<string, string>) {
  return app.inject({ method: 'POST', url: '/api/auth/register', payload: body })
}

t.test('register refuses a common password and one too similar to the email, in API.md\'s validation shape', async t => {
  const app = await build(t)
  for (const password of ['password1234', 'PASSWORD1234', 'qwertyuiop123']) {
    const res = await register(app, newUser({ password }))
    t.equal(res.statusCode, 400, password)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.match(res.json(), { code: 'validation_failed', errors: [{ field: 'password', message: 'must not be a commonly used password' }] })
  }
  const similar = await register(app, { email: 'ada.lovelace@example.com', username: 'countess', password: 'AdaLovelace1815' })
  t.match(similar.json(), { status: 400, code: 'validation_failed', errors: [{ field: 'password', message: 'must not be too similar to the email address' }] })
  t.equal((await register(app, newUser())).statusCode, 201, 'a fine password still registers')
})

t.test('PASSWORD_COMMON_CHECK=false and PASSWORD_MAX_SIMILARITY=off turn the two checks off', async t => {
  const app = await build(t, {}, { env: { PASSWORD_COMMON_CHECK: 'false', PASSWORD_MAX_SIMILARITY: 'off' } })
  t.equal((await register(app, newUser({ password: 'password1234' }))).statusCode, 201)
  t.equal((await register(app, { email: 'ada.lovelace@example.com', username: 'countess', password: 'AdaLovelace1815' })).statusCode, 201)
})

t.test('password change applies the rules to the new password', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await app.inject({ method: 'POST', url: '/api/auth/password/change', headers: bearer(user.access), payload: { current_password: user.password, new_password: `${user.username}!!!` } })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { code: 'validation_failed', errors: [{ field: 'new_password', message: 'must not be too similar to the username' }] })
})

t.test('with PWNED_PASSWORDS_URL a breached password is refused on register and on change; only a 5-digit prefix is sent', async t => {
  const api = await fakeRangeApi(t, rangeAnswer([BREACHED]))
  const app = await build(t, {}, { env: { PWNED_PASSWORDS_URL: api.url } })
  const res = await register(app, newUser({ password: BREACHED }))
  t.equal(res.statusCode, 400)
  t.match(res.json(), { code: 'validation_failed', errors: [{ field: 'password', message: 'has appeared in a data breach; choose another one' }] })
  t.match(api.requests[0].url, /^\/range\/[0-9A-F]{5}$/)

  const user = await loginUser(app)
  const change = await app.inject({ method: 'POST', url: '/api/auth/password/change', headers: bearer(user.access), payload: { current_password: user.password, new_password: BREACHED } })
  t.match(change.json(), { status: 400, errors: [{ field: 'new_password', message: 'has appeared in a data breach; choose another one' }] })
})

t.test('a breached-password service that fails lets the password through and logs a warning without the password', async t => {
  const api = await fakeRangeApi(t, (_request, response) => { response.statusCode = 500; response.end() })
  const { app, lines, raw } = await loggedApp(t, {}, { PWNED_PASSWORDS_URL: api.url })
  const res = await register(app, newUser({ password: BREACHED }))
  t.equal(res.statusCode, 201, 'fail open')
  const warning = lines.find(line => line.msg.includes('breached-password check failed'))
  t.equal(warning?.level, WARN)
  t.notOk(raw().includes(BREACHED), 'the password is in no log line')
})
