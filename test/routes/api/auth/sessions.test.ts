import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { bearer, build, loginUser, manualClock, PASSWORD } from '../../../helper.js'

const SESSION_FIELDS = ['created_at', 'current', 'id', 'ip', 'last_used_at', 'user_agent']
const DAY_MS = 24 * 60 * 60 * 1000

interface SessionItem {
  id: string
  created_at: string
  last_used_at: string
  user_agent: string | null
  ip: string | null
  current: boolean
}

async function loginFrom (app: FastifyInstance, email: string, userAgent: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    headers: { 'user-agent': userAgent },
    payload: { email, password: PASSWORD }
  })
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode}`)
  return res.json() as { access: string, refresh: string }
}

async function list (app: FastifyInstance, access: string): Promise<SessionItem[]> {
  const res = await app.inject({ url: '/api/auth/sessions', headers: bearer(access) })
  if (res.statusCode !== 200) throw new Error(`list failed: ${res.statusCode} ${res.body}`)
  return res.json()
}

function revoke (app: FastifyInstance, access: string, id: string) {
  return app.inject({ method: 'DELETE', url: `/api/auth/sessions/${encodeURIComponent(id)}`, headers: bearer(access) })
}

function refresh (app: FastifyInstance, token: string, userAgent = 'lightMyRequest') {
  return app.inject({ method: 'POST', url: '/api/auth/token/refresh', headers: { 'user-agent': userAgent }, payload: { refresh: token } })
}

function sidOf (access: string): string {
  return JSON.parse(Buffer.from(access.split('.')[1], 'base64url').toString()).sid
}

t.test('GET /sessions lists the live sessions with exactly one current', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const phone = await loginFrom(app, user.email, 'Phone/1.0')
  const laptop = await loginFrom(app, user.email, 'Laptop/2.0')

  const res = await app.inject({ url: '/api/auth/sessions', headers: bearer(phone.access) })
  t.equal(res.statusCode, 200)
  const items: SessionItem[] = res.json()
  t.equal(items.length, 3)
  for (const item of items) {
    t.same(Object.keys(item).sort(), SESSION_FIELDS)
    t.equal(new Date(item.created_at).toISOString(), item.created_at)
    t.equal(new Date(item.last_used_at).toISOString(), item.last_used_at)
    t.equal(item.ip, '127.0.0.1')
  }
  const current = items.filter(i => i.current)
  t.equal(current.length, 1, 'exactly one session is current')
  t.equal(current[0].id, sidOf(phone.access), 'the current one is the caller\'s')
  t.equal(current[0].user_agent, 'Phone/1.0')
  t.same(new Set(items.map(i => i.id)), new Set([user.access, phone.access, laptop.access].map(sidOf)))
  t.equal(items.find(i => i.id === sidOf(laptop.access))?.user_agent, 'Laptop/2.0')
  t.notMatch(res.body, new RegExp(phone.refresh), 'no refresh token in the list')

  const fromLaptop = await list(app, laptop.access)
  t.same(fromLaptop.filter(i => i.current).map(i => i.id), [sidOf(laptop.access)], 'current follows the caller')
})

t.test('GET /sessions shows only the caller\'s own sessions', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const other = await loginUser(app)
  const items = await list(app, user.access)
  t.same(items.map(i => i.id), [sidOf(user.access)])
  t.notOk(items.some(i => i.id === sidOf(other.access)))
})

t.test('revoked and expired sessions disappear from the list', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now })
  const user = await loginUser(app)
  const loggedOut = await loginFrom(app, user.email, 'Old/1.0')
  clock.advance(2 * DAY_MS)
  const recent = await loginFrom(app, user.email, 'New/1.0')

  const logout = await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh: loggedOut.refresh } })
  t.equal(logout.statusCode, 204)
  t.same(new Set((await list(app, recent.access)).map(i => i.id)), new Set([sidOf(user.access), sidOf(recent.access)]), 'the logged-out session is gone')

  clock.advance(5 * DAY_MS + 1000)
  t.same((await list(app, recent.access)).map(i => i.id), [sidOf(recent.access)], 'the expired first session is gone')
})

t.test('a refresh updates last_used_at, user agent and the order of the list', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now })
  const user = await loginUser(app)
  const first = await loginFrom(app, user.email, 'Before/1.0')
  const loginTime = clock.now().toISOString()
  clock.advance(60_000)
  const other = await loginFrom(app, user.email, 'Other/1.0')
  clock.advance(60_000)
  const refreshed = await refresh(app, first.refresh, 'After/2.0')
  t.equal(refreshed.statusCode, 200)

  const items = await list(app, other.access)
  const session = items.find(i => i.id === sidOf(first.access))!
  t.equal(session.created_at, loginTime)
  t.equal(session.last_used_at, clock.now().toISOString())
  t.equal(session.user_agent, 'After/2.0')
  t.equal(items[0].id, session.id, 'most recently used first')
  t.equal(sidOf(refreshed.json().access), session.id, 'a refresh stays in the same session')
})

t.test('DELETE /sessions/{id} revokes that session and only that one', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const stolen = await loginFrom(app, user.email, 'Stolen/1.0')

  const res = await revoke(app, user.access, sidOf(stolen.access))
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  const dead = await refresh(app, stolen.refresh)
  t.equal(dead.statusCode, 401, 'its refresh token is dead')
  t.equal(dead.json().code, 'token_not_valid')
  const profile = await app.inject({ url: '/api/auth/me', headers: bearer(stolen.access) })
  t.equal(profile.statusCode, 401, 'its access token is dead')
  t.same((await list(app, user.access)).map(i => i.id), [sidOf(user.access)])
  t.equal((await refresh(app, user.refresh)).statusCode, 200, 'the caller\'s session lives on')

  const again = await revoke(app, user.access, sidOf(stolen.access))
  t.equal(again.statusCode, 404, 'a revoked session is no longer found')
  t.equal(again.json().code, 'not_found')
})

t.test('DELETE of the current session logs the caller out', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await revoke(app, user.access, sidOf(user.access))
  t.equal(res.statusCode, 204)
  t.equal((await app.inject({ url: '/api/auth/me', headers: bearer(user.access) })).statusCode, 401)
  t.equal((await refresh(app, user.refresh)).statusCode, 401)
})

t.test('DELETE of another user\'s session is 404 not_found and the session stays live', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const victim = await loginUser(app)
  const res = await revoke(app, user.access, sidOf(victim.access))
  t.equal(res.statusCode, 404)
  t.equal(res.json().code, 'not_found')
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal((await refresh(app, victim.refresh)).statusCode, 200, 'the victim still refreshes')
  t.equal((await list(app, victim.access)).length, 1)
})

t.test('DELETE of an unknown session id is 404 not_found', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  for (const id of ['00000000-0000-4000-8000-000000000000', 'nope', 'x'.repeat(64)]) {
    const res = await revoke(app, user.access, id)
    t.equal(res.statusCode, 404, id)
    t.equal(res.json().code, 'not_found')
  }
  t.equal((await list(app, user.access)).length, 1, 'nothing was revoked')
})

t.test('the session endpoints need an access token', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const get = await app.inject({ url: '/api/auth/sessions' })
  t.equal(get.statusCode, 401)
  t.equal(get.json().code, 'not_authenticated')
  t.match(get.headers['www-authenticate'], /^Bearer/)
  const del = await app.inject({ method: 'DELETE', url: `/api/auth/sessions/${sidOf(user.access)}` })
  t.equal(del.statusCode, 401)
  t.equal(del.json().code, 'not_authenticated')
  const withRefresh = await app.inject({ url: '/api/auth/sessions', headers: bearer(user.refresh) })
  t.equal(withRefresh.statusCode, 401)
  t.equal(withRefresh.json().code, 'token_not_valid')
  t.equal((await list(app, user.access)).length, 1, 'the session was not touched')
})
