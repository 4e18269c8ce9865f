import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, loginUser, newUser, registerUser, bearer, PASSWORD } from '../../../helper.js'

function refresh (app: FastifyInstance, token: string) {
  return app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: token } })
}

function me (app: FastifyInstance, access: string) {
  return app.inject({ url: '/api/auth/me', headers: bearer(access) })
}

async function loginAgain (app: FastifyInstance, email: string) {
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: PASSWORD } })
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode}`)
  return res.json() as { access: string, refresh: string }
}

function refreshCookieOf (headers: Record<string, unknown>): string {
  const raw = headers['set-cookie']
  const all = Array.isArray(raw) ? raw : raw === undefined ? [] : [String(raw)]
  return all.find(c => c.startsWith('refresh_token=')) ?? ''
}

function assertCookieExpired (t: Test, headers: Record<string, unknown>) {
  const cookie = refreshCookieOf(headers)
  t.match(cookie, /^refresh_token=;/, 'the cookie is emptied')
  t.match(cookie, /; Max-Age=0/)
  t.match(cookie, /; Expires=Thu, 01 Jan 1970 00:00:00 GMT/)
  t.match(cookie, /; Path=\/api\/auth(;|$)/, 'with the path it was set with')
  t.match(cookie, /; HttpOnly/)
  t.match(cookie, /; SameSite=Strict/)
}

t.test('logout with the body token answers 204, revokes the session and expires the cookie', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh: user.refresh } })
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  assertCookieExpired(t, res.headers)

  const after = await refresh(app, user.refresh)
  t.equal(after.statusCode, 401, 'the refresh token is dead')
  t.equal(after.json().code, 'token_not_valid')
  const profile = await me(app, user.access)
  t.equal(profile.statusCode, 401, 'the session\'s access token is dead')
  t.equal(profile.json().code, 'token_not_valid')
})

t.test('logout with the cookie revokes that session', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await app.inject({ method: 'POST', url: '/api/auth/logout', cookies: { refresh_token: user.refresh } })
  t.equal(res.statusCode, 204)
  assertCookieExpired(t, res.headers)
  t.equal((await refresh(app, user.refresh)).statusCode, 401)
  t.equal((await me(app, user.access)).statusCode, 401)
})

t.test('logout ends only its own session', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const laptop = await loginAgain(app, user.email)
  const res = await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh: user.refresh } })
  t.equal(res.statusCode, 204)
  t.equal((await refresh(app, laptop.refresh)).statusCode, 200, 'the other device still refreshes')
  t.equal((await me(app, laptop.access)).statusCode, 200)
})

t.test('logout with an earlier token of a rotated session still ends the session', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const rotated = (await refresh(app, user.refresh)).json()
  const res = await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh: user.refresh } })
  t.equal(res.statusCode, 204)
  t.equal((await refresh(app, rotated.refresh)).statusCode, 401)
  t.equal((await me(app, rotated.access)).statusCode, 401)
})

t.test('logout is idempotent: twice, with an unknown token, with no token or an empty body is 204', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const requests = [
    { payload: { refresh: user.refresh } },
    { payload: { refresh: user.refresh } },
    { payload: { refresh: 'never-issued' } },
    { cookies: { refresh_token: 'never-issued' } },
    {},
    { payload: {} }
  ]
  for (const request of requests) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/logout', ...request })
    t.equal(res.statusCode, 204, JSON.stringify(request).slice(0, 60))
    assertCookieExpired(t, res.headers)
  }
})

t.test('logout with an unknown body field is 400 validation_failed and logs nobody out', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh: user.refresh, all: true } })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'validation_failed')
  t.equal((await me(app, user.access)).statusCode, 200)
})

t.test('logout with the cookie and a foreign Origin is 403 csrf_failed and the session stays', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/logout',
    cookies: { refresh_token: user.refresh },
    headers: { origin: 'https://evil.example' }
  })
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'csrf_failed')
  t.equal(refreshCookieOf(res.headers), '', 'the cookie is left alone')
  t.equal((await me(app, user.access)).statusCode, 200)
  t.equal((await refresh(app, user.refresh)).statusCode, 200)
})

t.test('logout with the cookie, no Origin and Sec-Fetch-Site cross-site is 403 csrf_failed and the session stays', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/logout',
    cookies: { refresh_token: user.refresh },
    headers: { 'sec-fetch-site': 'cross-site' }
  })
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'csrf_failed')
  t.equal((await refresh(app, user.refresh)).statusCode, 200)
})

t.test('logout with the cookie and an allowed or same Origin works', async t => {
  const app = await build(t, { allowedOrigins: ['https://app.example'] })
  const first = await loginUser(app)
  const second = await loginUser(app)
  const allowed = await app.inject({
    method: 'POST',
    url: '/api/auth/logout',
    cookies: { refresh_token: first.refresh },
    headers: { origin: 'https://app.example' }
  })
  t.equal(allowed.statusCode, 204)
  t.equal((await refresh(app, first.refresh)).statusCode, 401)
  const same = await app.inject({
    method: 'POST',
    url: '/api/auth/logout',
    cookies: { refresh_token: second.refresh },
    headers: { origin: 'http://portcullis.test' }
  })
  t.equal(same.statusCode, 204)
  t.equal((await refresh(app, second.refresh)).statusCode, 401)
})

t.test('logout with a body token and a foreign Origin is not cookie-authenticated and works', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/logout',
    payload: { refresh: user.refresh },
    headers: { origin: 'https://evil.example' }
  })
  t.equal(res.statusCode, 204)
  t.equal((await refresh(app, user.refresh)).statusCode, 401)
})

t.test('logout/all without an access token is 401', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const none = await app.inject({ method: 'POST', url: '/api/auth/logout/all' })
  t.equal(none.statusCode, 401)
  t.equal(none.json().code, 'not_authenticated')
  t.match(none.headers['www-authenticate'], /^Bearer/)
  const cookieOnly = await app.inject({ method: 'POST', url: '/api/auth/logout/all', cookies: { refresh_token: user.refresh } })
  t.equal(cookieOnly.statusCode, 401, 'the refresh cookie does not authenticate')
  const refreshAsBearer = await app.inject({ method: 'POST', url: '/api/auth/logout/all', headers: bearer(user.refresh) })
  t.equal(refreshAsBearer.statusCode, 401)
  t.equal(refreshAsBearer.json().code, 'token_not_valid')
  t.equal((await refresh(app, user.refresh)).statusCode, 200, 'nothing was revoked')
})

t.test('logout/all revokes every session of the user and no one else\'s', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const phone = await loginAgain(app, user.email)
  const bystander = await loginUser(app)

  const res = await app.inject({ method: 'POST', url: '/api/auth/logout/all', headers: bearer(user.access) })
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  assertCookieExpired(t, res.headers)

  for (const [name, session] of [['this session', user], ['the other session', phone]] as const) {
    t.equal((await refresh(app, session.refresh)).statusCode, 401, `${name}: refresh is dead`)
    t.equal((await me(app, session.access)).statusCode, 401, `${name}: access is dead`)
  }
  t.equal((await me(app, bystander.access)).statusCode, 200, 'another user is unaffected')
  t.equal((await refresh(app, bystander.refresh)).statusCode, 200)

  const fresh = await loginAgain(app, user.email)
  t.equal((await me(app, fresh.access)).statusCode, 200, 'the user can log in again')
})

t.test('a browser logs out by the cookie over real HTTP', async t => {
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  const user = newUser()
  await registerUser(app, user)

  const login = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: user.email, password: user.password })
  })
  t.equal(login.status, 200)
  const { access } = await login.json() as { access: string }
  const cookiePair = login.headers.getSetCookie().find(c => c.startsWith('refresh_token='))!.split(';')[0]

  const logout = await fetch(`${base}/api/auth/logout`, {
    method: 'POST',
    headers: { cookie: cookiePair, origin: 'http://portcullis.test' }
  })
  t.equal(logout.status, 204)
  const expired = logout.headers.getSetCookie().find(c => c.startsWith('refresh_token='))
  t.match(expired, /^refresh_token=;.*Max-Age=0.*Path=\/api\/auth/)

  const stale = await fetch(`${base}/api/auth/token/refresh`, { method: 'POST', headers: { cookie: cookiePair } })
  t.equal(stale.status, 401)
  const profile = await fetch(`${base}/api/auth/me`, { headers: bearer(access) })
  t.equal(profile.status, 401)
})
