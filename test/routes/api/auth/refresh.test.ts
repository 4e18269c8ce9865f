import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { bearer, build, loginUser, manualClock, newUser, PASSWORD, registerUser } from '../../../helper.js'

const REFRESH_URL = '/api/auth/token/refresh'
const SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000

function refreshWithBody (app: FastifyInstance, token: string, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: REFRESH_URL, payload: { refresh: token }, headers })
}

function refreshWithCookie (app: FastifyInstance, token: string, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: REFRESH_URL, cookies: { refresh_token: token }, headers })
}

function me (app: FastifyInstance, access: string) {
  return app.inject({ url: '/api/auth/me', headers: bearer(access) })
}

function refreshCookieOf (headers: Record<string, unknown>): string {
  const raw = headers['set-cookie']
  const all = Array.isArray(raw) ? raw : raw === undefined ? [] : [String(raw)]
  return all.find(c => c.startsWith('refresh_token=')) ?? ''
}

t.test('a body refresh token is rotated into a new pair, a new cookie and no-store', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await refreshWithBody(app, user.refresh)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json()
  t.same(Object.keys(body).sort(), ['access', 'expires_in', 'refresh', 'token_type'])
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, 300)
  t.type(body.refresh, 'string')
  t.not(body.refresh, user.refresh, 'the refresh token is rotated')
  t.not(body.access, user.access)
  const cookie = refreshCookieOf(res.headers)
  t.match(cookie, new RegExp(`^refresh_token=${body.refresh};`))
  t.match(cookie, /; HttpOnly/)
  t.match(cookie, /; Secure/)
  t.match(cookie, /; SameSite=Strict/)
  t.match(cookie, /; Path=\/api\/auth(;|$)/)
  t.match(cookie, /; Max-Age=604800/)
  const profile = await me(app, body.access)
  t.equal(profile.statusCode, 200, 'the new access token works')
  t.equal(profile.json().id, user.id)
})

t.test('the refresh_token cookie works without a body', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await refreshWithCookie(app, user.refresh)
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.not(body.refresh, user.refresh)
  t.match(refreshCookieOf(res.headers), new RegExp(`^refresh_token=${body.refresh};`))
  t.equal((await me(app, body.access)).statusCode, 200)
  const next = await refreshWithCookie(app, body.refresh)
  t.equal(next.statusCode, 200, 'the rotated cookie value refreshes again')
  t.not(next.json().refresh, body.refresh)
})

t.test('every refresh rotates: a chain of refreshes hands out distinct tokens that all work once', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const seen = new Set([user.refresh])
  let current = user.refresh
  for (let i = 0; i < 4; i++) {
    const res = await refreshWithBody(app, current)
    t.equal(res.statusCode, 200)
    current = res.json().refresh
    t.notOk(seen.has(current), `refresh ${i + 1} hands out a new token`)
    seen.add(current)
  }
})

t.test('a rotated token presented again after the grace window is reuse: 401 and the whole session is revoked', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now })
  const user = await loginUser(app)
  const first = await refreshWithBody(app, user.refresh)
  t.equal(first.statusCode, 200)
  const successor = first.json()

  clock.advance(10_001)
  const replay = await refreshWithBody(app, user.refresh)
  t.equal(replay.statusCode, 401)
  t.equal(replay.json().code, 'token_not_valid')

  const next = await refreshWithBody(app, successor.refresh)
  t.equal(next.statusCode, 401, 'the successor is revoked with the session')
  t.equal(next.json().code, 'token_not_valid')
  const profile = await me(app, successor.access)
  t.equal(profile.statusCode, 401, 'the session\'s access token no longer authenticates')
  t.equal(profile.json().code, 'token_not_valid')
  t.equal((await me(app, user.access)).statusCode, 401, 'the login access token is dead too')
})

t.test('with REFRESH_REUSE_GRACE=0 any replay of a rotated token is reuse, even at the same instant', async t => {
  const fixed = new Date()
  const app = await build(t, { refreshReuseGrace: 0 }, { now: () => fixed })
  const user = await loginUser(app)
  const first = await refreshWithBody(app, user.refresh)
  t.equal(first.statusCode, 200)
  const replay = await refreshWithBody(app, user.refresh)
  t.equal(replay.statusCode, 401)
  t.equal(replay.json().code, 'token_not_valid')
  t.equal((await refreshWithBody(app, first.json().refresh)).statusCode, 401, 'the successor died with the session')
  t.equal((await me(app, first.json().access)).statusCode, 401)
})

t.test('reuse of one session leaves the user\'s other sessions alone', async t => {
  const app = await build(t, { refreshReuseGrace: 0 })
  const user = await loginUser(app)
  const other = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
  t.equal((await refreshWithBody(app, user.refresh)).statusCode, 200)
  t.equal((await refreshWithBody(app, user.refresh)).statusCode, 401)
  t.equal((await refreshWithBody(app, other.json().refresh)).statusCode, 200)
  t.equal((await me(app, other.json().access)).statusCode, 200)
})

t.test('replaying the parent within the grace window returns the same successor, not a new one', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now })
  const user = await loginUser(app)
  const first = await refreshWithBody(app, user.refresh)
  t.equal(first.statusCode, 200)
  clock.advance(9_000)
  const again = await refreshWithBody(app, user.refresh)
  t.equal(again.statusCode, 200, 'a racing tab is not logged out')
  t.equal(again.json().refresh, first.json().refresh, 'the same successor is handed out again')
  t.match(refreshCookieOf(again.headers), new RegExp(`^refresh_token=${first.json().refresh};`))
  t.equal((await me(app, again.json().access)).statusCode, 200)
  const next = await refreshWithBody(app, first.json().refresh)
  t.equal(next.statusCode, 200, 'the successor is still live')
})

t.test('two concurrent refreshes with one token never produce two live successors', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const answers = await Promise.all([refreshWithBody(app, user.refresh), refreshWithBody(app, user.refresh)])
  const ok = answers.filter(r => r.statusCode === 200)
  for (const failed of answers.filter(r => r.statusCode !== 200)) {
    t.equal(failed.statusCode, 401)
    t.equal(failed.json().code, 'token_not_valid')
  }
  const successors = new Set(ok.map(r => r.json().refresh as string))
  t.equal(successors.size, 1, 'exactly one distinct successor was handed out')
  const [successor] = [...successors]
  t.not(successor, user.refresh)
  const next = await refreshWithBody(app, successor)
  t.equal(next.statusCode, 200, 'the one successor works')
})

t.test('replaying the parent after its successor was rotated too is reuse: the session is revoked', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const first = (await refreshWithBody(app, user.refresh)).json()
  const second = await refreshWithBody(app, first.refresh)
  t.equal(second.statusCode, 200)

  const replay = await refreshWithBody(app, user.refresh)
  t.equal(replay.statusCode, 401, 'within the grace window, but the successor has moved on')
  t.equal(replay.json().code, 'token_not_valid')
  t.equal((await refreshWithBody(app, second.json().refresh)).statusCode, 401, 'the newest token died with the session')
  t.equal((await me(app, second.json().access)).statusCode, 401)
})

t.test('an expired refresh token is 401 token_not_valid', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now })
  const user = await loginUser(app)
  clock.advance(SEVEN_DAYS_MS + 1000)
  const res = await refreshWithBody(app, user.refresh)
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'token_not_valid')
})

t.test('a refresh token is still good just before it expires, and each refresh extends the session', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now })
  const user = await loginUser(app)
  clock.advance(SEVEN_DAYS_MS - 60_000)
  const first = await refreshWithBody(app, user.refresh)
  t.equal(first.statusCode, 200)
  clock.advance(SEVEN_DAYS_MS - 60_000)
  const second = await refreshWithBody(app, first.json().refresh)
  t.equal(second.statusCode, 200, 'the successor has its own seven days')
})

t.test('an unknown or garbage refresh token is 401 token_not_valid with WWW-Authenticate invalid_token', async t => {
  const app = await build(t)
  await loginUser(app)
  for (const token of ['garbage', 'x'.repeat(43), 'a.b.c']) {
    const res = await refreshWithBody(app, token)
    t.equal(res.statusCode, 401, token)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    const body = res.json()
    t.equal(body.code, 'token_not_valid')
    t.equal(body.status, 401)
    t.match(res.headers['www-authenticate'], /^Bearer .*error="invalid_token"/)
  }
})

t.test('no refresh token at all is 400 validation_failed', async t => {
  const app = await build(t)
  await loginUser(app)
  const requests = [
    { method: 'POST' as const, url: REFRESH_URL },
    { method: 'POST' as const, url: REFRESH_URL, payload: {} },
    { method: 'POST' as const, url: REFRESH_URL, cookies: { refresh_token: '' } }
  ]
  for (const request of requests) {
    const res = await app.inject(request)
    t.equal(res.statusCode, 400)
    t.equal(res.json().code, 'validation_failed')
    t.same(res.json().errors.map((e: { field: string }) => e.field), ['refresh'])
    t.equal(refreshCookieOf(res.headers), '', 'no cookie is set')
  }
  const empty = await app.inject({ method: 'POST', url: REFRESH_URL, payload: { refresh: '' } })
  t.equal(empty.statusCode, 400, 'an empty string is not a token')
  t.equal(empty.json().code, 'validation_failed')
})

t.test('an unknown body field is 400 validation_failed and the token is not spent', async t => {
  const app = await build(t, { refreshReuseGrace: 0 })
  const user = await loginUser(app)
  const res = await app.inject({ method: 'POST', url: REFRESH_URL, payload: { refresh: user.refresh, access: user.access } })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'validation_failed')
  t.same(res.json().errors, [{ field: 'access', message: 'is not an allowed field' }])
  const later = await refreshWithBody(app, user.refresh)
  t.equal(later.statusCode, 200, 'the token was not rotated by the refused request')
})

t.test('the cookie with a foreign Origin is refused 403 csrf_failed and not spent', async t => {
  const app = await build(t, { refreshReuseGrace: 0 })
  const user = await loginUser(app)
  for (const origin of ['https://evil.example', 'null', 'http://portcullis.test:8080', 'https://portcullis.test']) {
    const res = await refreshWithCookie(app, user.refresh, { origin })
    t.equal(res.statusCode, 403, origin)
    t.equal(res.json().code, 'csrf_failed')
    t.notOk(res.json().access)
  }
  const later = await refreshWithCookie(app, user.refresh)
  t.equal(later.statusCode, 200, 'the refused requests did not rotate the token')
})

t.test('the cookie with no Origin but Sec-Fetch-Site cross-site, or same-site, is refused 403 csrf_failed and not spent', async t => {
  const app = await build(t, { refreshReuseGrace: 0, allowedOrigins: ['https://app.portcullis.test'] })
  const user = await loginUser(app)
  for (const site of ['cross-site', 'same-site']) {
    const res = await refreshWithCookie(app, user.refresh, { 'sec-fetch-site': site })
    t.equal(res.statusCode, 403, site)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.equal(res.json().code, 'csrf_failed')
  }
  const crossAllowed = await refreshWithCookie(app, user.refresh, { 'sec-fetch-site': 'cross-site', origin: 'https://app.portcullis.test' })
  t.equal(crossAllowed.statusCode, 403, 'cross-site is refused even from an allowed origin: the SameSite=Strict cookie never travels cross-site')
  const sameForeign = await refreshWithCookie(app, user.refresh, { 'sec-fetch-site': 'same-site', origin: 'https://other.portcullis.test' })
  t.equal(sameForeign.statusCode, 403, 'a same-site origin that is not allowed')
  const body = await refreshWithBody(app, user.refresh, { 'sec-fetch-site': 'cross-site' })
  t.equal(body.statusCode, 200, 'a token in the body is not a cookie: no CSRF check, and the refused requests did not spend it')
})

t.test('the cookie with Sec-Fetch-Site same-origin or none, or same-site from an allowed origin, refreshes', async t => {
  const app = await build(t, { allowedOrigins: ['https://app.portcullis.test'] })
  const user = await loginUser(app)
  let token = user.refresh
  const cases: Array<Record<string, string>> = [{ 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }, { 'sec-fetch-site': 'same-site', origin: 'https://app.portcullis.test' }, { 'sec-fetch-site': 'same-origin', origin: 'http://portcullis.test' }]
  for (const headers of cases) {
    const res = await refreshWithCookie(app, token, headers)
    t.equal(res.statusCode, 200, JSON.stringify(headers))
    token = res.json().refresh
  }
})

t.test('the cookie with an Origin from ALLOWED_ORIGINS refreshes', async t => {
  const app = await build(t, { allowedOrigins: ['https://app.example'] })
  const user = await loginUser(app)
  const res = await refreshWithCookie(app, user.refresh, { origin: 'https://app.example' })
  t.equal(res.statusCode, 200)
  t.not(res.json().refresh, user.refresh)
  const evil = await refreshWithCookie(app, res.json().refresh, { origin: 'https://evil.example' })
  t.equal(evil.statusCode, 403, 'other origins are still refused')
})

t.test('the cookie with the PUBLIC_URL origin, or with no Origin, refreshes', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const same = await refreshWithCookie(app, user.refresh, { origin: 'http://portcullis.test' })
  t.equal(same.statusCode, 200)
  const none = await refreshWithCookie(app, same.json().refresh)
  t.equal(none.statusCode, 200)
})

t.test('a body token with a foreign Origin is not cookie-authenticated and refreshes', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await refreshWithBody(app, user.refresh, { origin: 'https://evil.example' })
  t.equal(res.statusCode, 200)
  t.not(res.json().refresh, user.refresh)
})

t.test('a failed refresh expires the cookie with the same attributes', async t => {
  const app = await build(t)
  await loginUser(app)
  const res = await refreshWithCookie(app, 'not-a-live-token')
  t.equal(res.statusCode, 401)
  const cookie = refreshCookieOf(res.headers)
  t.match(cookie, /^refresh_token=;/)
  t.match(cookie, /; Max-Age=0/)
  t.match(cookie, /; Expires=Thu, 01 Jan 1970 00:00:00 GMT/)
  t.match(cookie, /; Path=\/api\/auth(;|$)/)
  t.match(cookie, /; HttpOnly/)
})

t.test('detected reuse expires the cookie', async t => {
  const app = await build(t, { refreshReuseGrace: 0 })
  const user = await loginUser(app)
  t.equal((await refreshWithCookie(app, user.refresh)).statusCode, 200)
  const replay = await refreshWithCookie(app, user.refresh)
  t.equal(replay.statusCode, 401)
  t.match(refreshCookieOf(replay.headers), /^refresh_token=;.*Max-Age=0/)
})

t.test('with REFRESH_TOKEN_IN_BODY=false the refresh token travels by cookie only', async t => {
  const app = await build(t, { refreshTokenInBody: false })
  const user = await registerUser(app)
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
  t.equal(login.statusCode, 200)
  t.notOk('refresh' in login.json(), 'login has no refresh field')
  t.type(login.json().access, 'string')
  t.equal(login.json().user.id, user.id)
  const loginCookie = login.cookies.find(c => c.name === 'refresh_token')
  t.ok(loginCookie?.value, 'login still sets the cookie')

  const res = await refreshWithCookie(app, loginCookie!.value)
  t.equal(res.statusCode, 200)
  t.same(Object.keys(res.json()).sort(), ['access', 'expires_in', 'token_type'])
  const refreshed = res.cookies.find(c => c.name === 'refresh_token')
  t.ok(refreshed?.value)
  t.not(refreshed!.value, loginCookie!.value)
  t.equal((await refreshWithCookie(app, refreshed!.value)).statusCode, 200, 'the cookie-only token refreshes')
})

t.test('with COOKIE_SECURE=false the cookie has no Secure attribute', async t => {
  const app = await build(t, { cookieSecure: false })
  const user = await loginUser(app)
  t.notMatch(user.cookie, /Secure/)
  t.match(user.cookie, /HttpOnly/)
  const res = await refreshWithBody(app, user.refresh)
  t.equal(res.statusCode, 200)
  const cookie = refreshCookieOf(res.headers)
  t.match(cookie, /^refresh_token=/)
  t.notMatch(cookie, /Secure/)
  t.match(cookie, /SameSite=Strict/)
  t.match(cookie, /Path=\/api\/auth/)
})

t.test('refresh for an inactive or banned account is 401 token_not_valid; an expired ban is no ban', async t => {
  const app = await build(t)
  const inactive = await loginUser(app)
  const banned = await loginUser(app)
  const banEnded = await loginUser(app)
  await app.repositories.users.update(inactive.id, { isActive: false })
  await app.repositories.users.update(banned.id, { isBanned: true, bannedUntil: null })
  await app.repositories.users.update(banEnded.id, { isBanned: true, bannedUntil: new Date(Date.now() - 60_000) })

  for (const user of [inactive, banned]) {
    const res = await refreshWithBody(app, user.refresh)
    t.equal(res.statusCode, 401)
    t.equal(res.json().code, 'token_not_valid')
  }
  t.equal((await refreshWithBody(app, banEnded.refresh)).statusCode, 200)

  await app.repositories.users.update(inactive.id, { isActive: true })
  t.equal((await refreshWithBody(app, inactive.refresh)).statusCode, 401, 'the session stays revoked after reactivation')
})

t.test('a browser keeps its session across real HTTP requests by the cookie alone', async t => {
  const app = await build(t, { refreshReuseGrace: 0 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  const user = newUser()
  await registerUser(app, user)

  const login = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'http://portcullis.test' },
    body: JSON.stringify({ email: user.email, password: user.password })
  })
  t.equal(login.status, 200)
  const loginCookie = login.headers.getSetCookie().find(c => c.startsWith('refresh_token='))!
  const firstPair = loginCookie.split(';')[0]

  const refreshed = await fetch(`${base}${REFRESH_URL}`, {
    method: 'POST',
    headers: { cookie: firstPair, origin: 'http://portcullis.test' }
  })
  t.equal(refreshed.status, 200)
  t.equal(refreshed.headers.get('cache-control'), 'no-store')
  const body = await refreshed.json() as { access: string, refresh: string }
  const secondPair = refreshed.headers.getSetCookie().find(c => c.startsWith('refresh_token='))!.split(';')[0]
  t.equal(secondPair, `refresh_token=${body.refresh}`)
  t.not(secondPair, firstPair)

  const again = await fetch(`${base}${REFRESH_URL}`, { method: 'POST', headers: { cookie: secondPair } })
  t.equal(again.status, 200, 'the rotated cookie keeps the browser signed in')

  const stale = await fetch(`${base}${REFRESH_URL}`, { method: 'POST', headers: { cookie: firstPair } })
  t.equal(stale.status, 401, 'a stale cookie is reuse')
  t.match(stale.headers.getSetCookie().join('\n'), /refresh_token=;.*Max-Age=0/)
})

t.test('a browser fetch with the cookie, Content-Type: application/json and no body refreshes', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/token/refresh',
    headers: { cookie: `refresh_token=${user.refresh}`, 'content-type': 'application/json' }
  })
  t.equal(res.statusCode, 200)
  t.not(res.json().refresh, user.refresh)
  const logout = await app.inject({
    method: 'POST',
    url: '/api/auth/logout',
    headers: { cookie: `refresh_token=${res.json().refresh}`, 'content-type': 'application/json' }
  })
  t.equal(logout.statusCode, 204)
  const after = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: res.json().refresh } })
  t.equal(after.statusCode, 401, 'the logout revoked the session')
})
