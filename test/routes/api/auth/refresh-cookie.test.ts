// The refresh cookie's lifetime and when a failed refresh drops it: only a refused token loses its
// cookie (a server error says nothing about the token), and a replay in the grace window sets the
// cookie to its successor's remaining lifetime, not a full one.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, loginUser, manualClock } from '../../../helper.js'

const REFRESH_URL = '/api/auth/token/refresh'
const SEVEN_DAYS = 7 * 24 * 60 * 60

function refreshWithCookie (app: FastifyInstance, token: string) {
  return app.inject({ method: 'POST', url: REFRESH_URL, cookies: { refresh_token: token } })
}

function refreshCookieOf (headers: Record<string, unknown>): string | undefined {
  const raw = headers['set-cookie']
  const all = Array.isArray(raw) ? raw : raw === undefined ? [] : [String(raw)]
  return all.find(c => c.startsWith('refresh_token='))
}

t.test('a server error during refresh keeps the cookie: the same token works once the server does', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const { sessions } = app.repositories
  const rotate = sessions.rotate
  sessions.rotate = async () => { throw new Error('database is locked') }
  const failed = await refreshWithCookie(app, user.refresh)
  t.equal(failed.statusCode, 500)
  t.equal(refreshCookieOf(failed.headers), undefined, 'no Set-Cookie for the refresh token: the browser keeps it')
  sessions.rotate = rotate
  const retried = await refreshWithCookie(app, user.refresh)
  t.equal(retried.statusCode, 200, 'the token was good all along')
})

t.test('a refused token still loses its cookie', async t => {
  const app = await build(t)
  await loginUser(app)
  const refused = await refreshWithCookie(app, 'not-a-live-token')
  t.equal(refused.statusCode, 401)
  t.match(refreshCookieOf(refused.headers), /^refresh_token=;.*Max-Age=0/)
})

t.test('a replay inside the grace window sets the cookie to the successor\'s remaining lifetime', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now })
  const user = await loginUser(app)
  const first = await refreshWithCookie(app, user.refresh)
  t.match(refreshCookieOf(first.headers), new RegExp(`; Max-Age=${SEVEN_DAYS}(;|$)`), 'a new successor lives a full lifetime')
  clock.advance(9_000)
  const replay = await refreshWithCookie(app, user.refresh)
  t.equal(replay.statusCode, 200)
  const cookie = refreshCookieOf(replay.headers)
  t.match(cookie, new RegExp(`^refresh_token=${first.json().refresh};`), 'the same successor')
  t.match(cookie, new RegExp(`; Max-Age=${SEVEN_DAYS - 9}(;|$)`), 'which has 9 seconds less to live')
})
