// GET /api/auth/revocations: every revocation path lands in the feed; cursors, time filters and client auth.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { bearer, build, loginUser, PASSWORD } from '../../../helper.js'
import { call, loginAs, refreshRequest } from '../../../admin-helper.js'
import { issueOneTimeToken } from '../../../../src/accounts/one-time-tokens.js'
import { basic, basicOf, clientToken, makeClient, revokeAs } from '../../../oauth-helper.js'

interface Item { sid?: string, sub?: string, jti?: string, not_before: string }

function sidOf (access: string): string {
  return JSON.parse(Buffer.from(access.split('.')[1], 'base64url').toString()).sid
}

function jtiOf (access: string): string {
  return JSON.parse(Buffer.from(access.split('.')[1], 'base64url').toString()).jti
}

async function feed (app: FastifyInstance, headers: Record<string, string>, query = '') {
  return app.inject({ url: `/api/auth/revocations${query}`, headers })
}

t.test('every revocation path is in the feed, in order', async t => {
  const app = await build(t)
  const reader = await makeClient(app, [])
  const auth = basicOf(reader)
  const admin = await loginAs(app, { superuser: true })
  const expected: Array<Partial<Item>> = []

  const logout = await loginUser(app)
  await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh: logout.refresh } })
  expected.push({ sid: sidOf(logout.access) })

  const all = await loginUser(app)
  t.equal((await call(app, all.access, 'POST', '/api/auth/logout/all')).statusCode, 204)
  expected.push({ sub: all.id })

  const changer = await loginUser(app)
  const other = (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: changer.email, password: PASSWORD } })).json()
  t.equal((await call(app, changer.access, 'POST', '/api/auth/password/change', { current_password: PASSWORD, new_password: 'another fine password' })).statusCode, 204)
  expected.push({ sid: sidOf(other.access) })

  const resetter = await loginUser(app)
  const user = (await app.repositories.users.findById(resetter.id))!
  const resetToken = await issueOneTimeToken(app.auth, user, 'reset_password', 3600)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/password/reset/confirm', payload: { token: resetToken, new_password: 'another fine password' } })).statusCode, 204)
  expected.push({ sub: resetter.id })

  const banned = await loginUser(app)
  t.equal((await call(app, admin.access, 'POST', `/api/admin/users/${banned.id}/ban`, { reason: 'spam' })).statusCode, 200)
  expected.push({ sub: banned.id })

  const deactivated = await loginUser(app)
  t.equal((await call(app, admin.access, 'PATCH', `/api/admin/users/${deactivated.id}`, { is_active: false })).statusCode, 200)
  expected.push({ sub: deactivated.id })

  const deleted = await loginUser(app)
  t.equal((await call(app, admin.access, 'DELETE', `/api/admin/users/${deleted.id}`)).statusCode, 204)
  expected.push({ sub: deleted.id })

  const sessionEnder = await loginUser(app)
  const second = (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: sessionEnder.email, password: PASSWORD } })).json()
  t.equal((await call(app, sessionEnder.access, 'DELETE', `/api/auth/sessions/${sidOf(second.access)}`)).statusCode, 204)
  expected.push({ sid: sidOf(second.access) })

  const reused = await loginUser(app)
  t.equal((await refreshRequest(app, reused.refresh)).statusCode, 200)
  await new Promise(resolve => setTimeout(resolve, 5))
  t.equal((await refreshRequest(app, reused.refresh)).statusCode, 200, 'a replay within the grace window is not reuse: nothing in the feed')

  const oauthRevoked = await loginUser(app)
  t.equal((await revokeAs(app, reader, oauthRevoked.refresh)).statusCode, 200)
  expected.push({ sid: sidOf(oauthRevoked.access) })

  const doomed = await makeClient(app, [])
  t.equal((await call(app, admin.access, 'DELETE', `/api/admin/clients/${doomed.client_id}`)).statusCode, 204)
  expected.push({ sub: doomed.client_id })

  const revokedClientToken = await clientToken(app, reader)
  t.equal((await revokeAs(app, reader, revokedClientToken)).statusCode, 200)
  t.equal((await revokeAs(app, reader, revokedClientToken)).statusCode, 200, 'revoked again: not a second item')
  expected.push({ jti: jtiOf(revokedClientToken) })

  const res = await feed(app, auth)
  t.equal(res.statusCode, 200, res.body)
  const { items, cursor } = res.json() as { items: Item[], cursor: string }
  t.same(items.map(({ sid, sub, jti }) => (sid !== undefined ? { sid } : sub !== undefined ? { sub } : { jti })), expected)
  for (const item of items) {
    t.ok(!Number.isNaN(Date.parse(item.not_before)), 'not_before is a date-time')
    t.equal([item.sid, item.sub, item.jti].filter(v => v !== undefined).length, 1, 'exactly one of sid, sub and jti')
  }
  t.type(cursor, 'string')

  const nothingNew = (await feed(app, auth, `?since=${cursor}`)).json()
  t.same(nothingNew, { items: [], cursor }, 'the same cursor while nothing happens')
})

t.test('refresh-token reuse outside the grace window revokes the session, in the feed', async t => {
  const app = await build(t, {}, { env: { REFRESH_REUSE_GRACE: '0s' } })
  const reader = await makeClient(app, [])
  const user = await loginUser(app)
  t.equal((await refreshRequest(app, user.refresh)).statusCode, 200)
  t.equal((await refreshRequest(app, user.refresh)).statusCode, 401, 'reuse')
  const items = (await feed(app, basicOf(reader))).json().items
  t.same(items.map((i: Item) => i.sid), [sidOf(user.access)])
})

t.test('pages follow the cursor; since takes a time; bad since is a 400', async t => {
  let clock = new Date('2030-01-01T10:00:00Z')
  const app = await build(t, {}, { now: () => clock })
  const reader = await makeClient(app, [])
  const auth = basicOf(reader)
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    const user = await loginUser(app)
    clock = new Date(clock.getTime() + 60_000)
    await call(app, user.access, 'POST', '/api/auth/logout/all')
    ids.push(user.id)
  }
  const first = (await feed(app, auth, '?limit=2')).json()
  t.same(first.items.map((i: Item) => i.sub), ids.slice(0, 2))
  const second = (await feed(app, auth, `?limit=2&since=${first.cursor}`)).json()
  t.same(second.items.map((i: Item) => i.sub), ids.slice(2, 4))
  const third = (await feed(app, auth, `?limit=2&since=${second.cursor}`)).json()
  t.same(third.items.map((i: Item) => i.sub), ids.slice(4))
  t.equal(third.items[0].not_before, '2030-01-01T10:05:00.000Z')
  const again = (await feed(app, auth, `?limit=2&since=${second.cursor}`)).json()
  t.same(again, third, 'a cursor is stable')

  const byTime = (await feed(app, auth, `?since=${encodeURIComponent('2030-01-01T10:04:00Z')}`)).json()
  t.same(byTime.items.map((i: Item) => i.sub), ids.slice(3), 'events at or after the time')
  t.equal(byTime.cursor, third.cursor)
  const future = (await feed(app, auth, '?since=2031-01-01T00:00:00Z')).json()
  t.same(future, { items: [], cursor: third.cursor }, 'nothing after the time: the newest cursor, to follow from')

  for (const since of ['yesterday', '2030-13-01T00:00:00Z', '2030-01-01', '-1', '1.5']) {
    const res = await feed(app, auth, `?since=${encodeURIComponent(since)}`)
    t.equal(res.statusCode, 400, since)
    t.equal(res.json().code, 'validation_failed', since)
  }
  for (const limit of ['0', '1001', 'x']) t.equal((await feed(app, auth, `?limit=${limit}`)).statusCode, 400, `limit ${limit}`)
})

t.test('a cursor the feed never handed out is 400 invalid_cursor; every cursor it did stays good after pruning', async t => {
  let clock = new Date('2030-01-01T10:00:00Z')
  const app = await build(t, {}, { now: () => clock })
  const auth = basicOf(await makeClient(app, []))
  const empty = (await feed(app, auth)).json()
  t.same(empty, { items: [], cursor: '0' }, 'an empty feed')
  t.equal((await feed(app, auth, '?since=0')).statusCode, 200)
  const ahead = await feed(app, auth, '?since=1')
  t.equal(ahead.statusCode, 400, 'ahead of an empty feed')
  t.equal(ahead.json().code, 'invalid_cursor')
  t.equal(ahead.headers['content-type'], 'application/problem+json; charset=utf-8')

  for (let i = 0; i < 2; i++) {
    const user = await loginUser(app)
    await call(app, user.access, 'POST', '/api/auth/logout/all')
  }
  const { cursor } = (await feed(app, auth)).json()
  t.equal((await feed(app, auth, `?since=${cursor}`)).statusCode, 200, 'the newest cursor')
  for (const since of [String(Number(cursor) + 1), String(Math.floor(clock.getTime() / 1000)), '999999999999999']) {
    const res = await feed(app, auth, `?since=${since}`)
    t.equal(res.statusCode, 400, `since=${since}`)
    t.equal(res.json().code, 'invalid_cursor', `since=${since}`)
  }

  clock = new Date(clock.getTime() + (app.config.accessTokenTtl + 301) * 1000)
  const { pruneRevocations } = await import('../../../../src/sessions/revocation-feed.js')
  t.equal(await pruneRevocations(app.auth, 100), 2, 'every event pruned')
  const afterPrune = await feed(app, auth, `?since=${cursor}`)
  t.equal(afterPrune.statusCode, 200, 'a cursor handed out before the events were pruned is still good')
  t.same(afterPrune.json(), { items: [], cursor })
  t.equal((await feed(app, auth, `?since=${Number(cursor) + 1}`)).json().code, 'invalid_cursor', 'and one past it still is not')
})

t.test('the feed takes client credentials or a client token, nothing else', async t => {
  const app = await build(t)
  const reader = await makeClient(app, [])
  const user = await loginUser(app)
  t.equal((await feed(app, bearer(await clientToken(app, reader)))).statusCode, 200, 'a client token as Bearer')
  t.equal((await feed(app, basicOf(reader))).statusCode, 200, 'HTTP Basic')

  const none = await feed(app, {})
  t.equal(none.statusCode, 401)
  t.equal(none.json().code, 'not_authenticated')
  t.equal(none.headers['content-type'], 'application/problem+json; charset=utf-8')
  const userToken = await feed(app, bearer(user.access))
  t.equal(userToken.statusCode, 401)
  t.equal(userToken.json().code, 'token_not_valid', 'a user token is not a client')
  const wrong = await feed(app, basic(reader.client_id, 'wrong'))
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.json().code, 'invalid_client')
  t.match(wrong.headers['www-authenticate'], /^Basic /)
  const revoked = await clientToken(app, reader)
  await revokeAs(app, reader, revoked)
  t.equal((await feed(app, bearer(revoked))).json().code, 'token_not_valid', 'a revoked client token')
})

t.test('pruning drops events older than the access-token lifetime plus the margin', async t => {
  let clock = new Date('2030-01-01T10:00:00Z')
  const app = await build(t, {}, { now: () => clock })
  const reader = await makeClient(app, [])
  const old = await loginUser(app)
  await call(app, old.access, 'POST', '/api/auth/logout/all')
  clock = new Date(clock.getTime() + (app.config.accessTokenTtl + 301) * 1000)
  const recent = await loginUser(app)
  await call(app, recent.access, 'POST', '/api/auth/logout/all')
  const { pruneRevocations } = await import('../../../../src/sessions/revocation-feed.js')
  t.equal(await pruneRevocations(app.auth, 100), 1)
  t.same((await feed(app, basicOf(reader))).json().items.map((i: Item) => i.sub), [recent.id])
})
