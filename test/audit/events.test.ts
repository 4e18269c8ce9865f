// Audit events: written with the change (and only with it), carrying the actor and the request's
// origin, never a secret; failed logins coalesced.
import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { bearer, build, loginUser, manualClock, newUser, PASSWORD, registerUser } from '../helper.js'
import { enrolTotp, MFA_ENV, totpCode } from '../mfa/mfa-helper.js'
import { makeClient, revokeAs } from '../oauth-helper.js'
import { call, loginAs, loginRequest, makeGroup } from '../admin-helper.js'
import type { AuditEventRecord } from '../../db/repositories.js'

async function allEvents (app: FastifyInstance): Promise<AuditEventRecord[]> {
  return app.repositories.audit.list({ limit: 10_000 })
}

test('the events of an account’s life carry their actor, subject, address, user agent and request id', async t => {
  const app = await build(t)
  const body = newUser()
  const reg = await app.inject({ method: 'POST', url: '/api/auth/register', payload: body, headers: { 'user-agent': 'journey/1.0' } })
  t.equal(reg.statusCode, 201)
  const userId = reg.json().user.id as string
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: body.email, password: PASSWORD }, headers: { 'user-agent': 'journey/1.0' } })
  t.equal(login.statusCode, 200)
  const { access, refresh } = login.json()
  const changed = await app.inject({
    method: 'POST',
    url: '/api/auth/password/change',
    headers: bearer(access),
    payload: { current_password: PASSWORD, new_password: 'another horse battery staple' }
  })
  t.equal(changed.statusCode, 204, changed.body)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh } })).statusCode, 204)

  const events = await allEvents(app)
  t.same(events.map(e => e.type), ['user.created', 'user.login', 'password.changed', 'session.revoked'])
  for (const event of events) {
    t.equal(event.subjectId, userId, `${event.type}: the subject`)
    t.equal(event.ip, '127.0.0.1', `${event.type}: the address`)
    t.match(event.requestId, /\S/, `${event.type}: the request id`)
  }
  t.equal(events[1].userAgent, 'journey/1.0')
  t.equal(events[1].actorType, 'user')
  t.equal(events[1].actorId, userId, 'a login is the user’s own act')
  t.equal(events[2].actorId, userId, 'the authenticated actor')
  t.same(events.map(e => e.seq), [1, 2, 3, 4], 'one chain, in order')
})

test('admin actions name the admin as actor and the user as subject; a refused change records nothing', async t => {
  const app = await build(t)
  const admin = await loginAs(app, { permissions: ['users.ban', 'users.change', 'users.delete', 'users.view'] })
  const target = await registerUser(app)
  const before = (await allEvents(app)).length
  t.equal((await call(app, admin.access, 'POST', `/api/admin/users/${target.id}/ban`, { reason: 'spam' })).statusCode, 200)
  t.equal((await call(app, admin.access, 'POST', `/api/admin/users/${target.id}/unban`)).statusCode, 200)
  t.equal((await call(app, admin.access, 'PATCH', `/api/admin/users/${target.id}`, { username: admin.username })).statusCode, 409, 'a taken username')
  t.equal((await call(app, admin.access, 'PUT', `/api/admin/users/${target.id}/permissions`, { permissions: ['users.view'] })).statusCode, 200)
  t.equal((await call(app, admin.access, 'DELETE', `/api/admin/users/${target.id}`)).statusCode, 204)
  const events = (await allEvents(app)).slice(before)
  t.same(events.map(e => e.type), ['user.banned', 'user.unbanned', 'permissions.changed', 'user.deleted'], 'the 409 left no event')
  for (const event of events) {
    t.equal(event.actorType, 'user')
    t.equal(event.actorId, admin.id)
    t.equal(event.subjectId, target.id)
  }
})

test('failed logins are counted, not one row per guess', async t => {
  const app = await build(t)
  const user = await registerUser(app)
  for (let i = 0; i < 20; i++) t.equal((await loginRequest(app, user.email, 'wrong password guess')).statusCode, 401)
  t.equal((await loginRequest(app, 'nobody@example.com', 'a password typed for nobody')).statusCode, 401)
  const failed = (await allEvents(app)).filter(e => e.type === 'user.login_failed')
  const known = failed.filter(e => e.subjectId === user.id)
  t.same(known.map(e => JSON.parse(e.data).failures), [1, 2, 4, 8, 16], '20 guesses, 5 rows, the count in each')
  const unknown = failed.filter(e => e.subjectId === null)
  t.equal(unknown.length, 1)
  t.same(JSON.parse(unknown[0].data).known_account, false)
})

test('guesses from addresses of one IPv6 /64 are coalesced as one client; another network counts apart', async t => {
  const app = await build(t)
  const user = await registerUser(app)
  const guess = (remoteAddress: string) => app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress, payload: { email: user.email, password: 'wrong password guess' } })
  for (let i = 1; i <= 8; i++) t.equal((await guess(`2001:db8:1:2::${i.toString(16)}`)).statusCode, 401)
  t.equal((await guess('2001:db8:9:9::1')).statusCode, 401)
  const failed = (await allEvents(app)).filter(e => e.type === 'user.login_failed')
  t.same(failed.map(e => [e.ip, JSON.parse(e.data).failures]), [
    ['2001:db8:1:2::1', 1], ['2001:db8:1:2::2', 2], ['2001:db8:1:2::4', 4], ['2001:db8:1:2::8', 8], ['2001:db8:9:9::1', 1]
  ], 'eight addresses of one /64: the rows of one client')
})

test('no stored event holds a password, hash, token or secret', async t => {
  const app = await build(t, { refreshReuseGrace: 0 })
  const admin = await loginAs(app, { superuser: true })
  const user = await registerUser(app)
  const login = await loginRequest(app, user.email)
  const { refresh } = login.json()
  await loginRequest(app, user.email, 'the wrong secret password')
  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh } })
  t.equal(refreshed.statusCode, 200)
  // The rotated-away token again: reuse.
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh } })).statusCode, 401)
  const client = await call(app, admin.access, 'POST', '/api/admin/clients', { name: 'billing', scopes: ['users:read'] })
  t.equal(client.statusCode, 201, client.body)
  t.equal((await call(app, admin.access, 'DELETE', `/api/admin/clients/${client.json().client_id as string}`)).statusCode, 204)
  const stored = await app.repositories.users.findById(user.id)

  const events = await allEvents(app)
  t.ok(events.some(e => e.type === 'refresh.reuse_detected' && e.subjectId === user.id), 'reuse recorded')
  t.ok(events.some(e => e.type === 'client.created') && events.some(e => e.type === 'client.deleted'))
  const text = JSON.stringify(events)
  const secrets = [PASSWORD, 'the wrong secret password', stored!.passwordHash!, refresh, refreshed.json().refresh, refreshed.json().access,
    login.json().access, admin.access, admin.refresh, client.json().client_secret]
  for (const secret of secrets) t.notOk(text.includes(secret), `no event holds ${secret.slice(0, 12)}…`)
  t.notOk(/\$2[aby]\$/.test(text), 'no bcrypt hash')
})

test('GET /api/admin/audit: filters, a cursor, oldest first; audit.view required; bad input is 400', async t => {
  const app = await build(t)
  const auditor = await loginAs(app, { permissions: ['audit.view'] })
  const users = [await registerUser(app), await registerUser(app), await registerUser(app)]
  await loginRequest(app, users[1].email)

  const first = await call(app, auditor.access, 'GET', '/api/admin/audit?type=user.created&limit=2')
  t.equal(first.statusCode, 200, first.body)
  const page = first.json()
  t.same(page.items.map((e: { subject_id: string }) => e.subject_id), [auditor.id, users[0].id], 'oldest first')
  t.same(Object.keys(page.items[0]).sort(), ['actor_id', 'actor_type', 'at', 'data', 'id', 'ip', 'request_id', 'subject_id', 'type', 'user_agent'])
  const second = (await call(app, auditor.access, 'GET', `/api/admin/audit?type=user.created&limit=2&cursor=${page.next_cursor as string}`)).json()
  t.same(second.items.map((e: { subject_id: string }) => e.subject_id), [users[1].id, users[2].id])
  t.equal(second.next_cursor, null)

  const about = (await call(app, auditor.access, 'GET', `/api/admin/audit?user=${users[1].id}`)).json()
  t.same(about.items.map((e: { type: string }) => e.type), ['user.created', 'user.login'])
  const future = (await call(app, auditor.access, 'GET', `/api/admin/audit?since=${new Date(Date.now() + 60_000).toISOString()}`)).json()
  t.same(future.items, [])
  const past = (await call(app, auditor.access, 'GET', '/api/admin/audit?until=2000-01-01T00:00:00Z')).json()
  t.same(past.items, [])

  for (const query of ['type=user.exploded', 'since=yesterday', 'limit=0', 'limit=x', 'cursor=bm9wZQ', 'colour=red', 'user=%00']) {
    const res = await call(app, auditor.access, 'GET', `/api/admin/audit?${query}`)
    t.equal(res.statusCode, 400, `${query}: ${res.body}`)
    t.equal(res.json().code, 'validation_failed')
  }
  const plain = await loginAs(app)
  t.equal((await call(app, plain.access, 'GET', '/api/admin/audit')).statusCode, 403)
  t.equal((await call(app, undefined, 'GET', '/api/admin/audit')).statusCode, 401)
})

test('mfa.enabled when TOTP is confirmed, mfa.disabled when it is removed or an admin resets the factors; never the secret', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { env: MFA_ENV, now: clock.now })
  const user = await loginUser(app)
  const now = clock.now
  const { secret } = await enrolTotp(app, user.access, now)
  const mfa = async () => (await allEvents(app)).filter(e => e.type.startsWith('mfa.'))
  t.match(await mfa(), [{ type: 'mfa.enabled', subjectId: user.id, actorType: 'user', actorId: user.id, data: '{"method":"totp"}' }])

  // Removing the factor needs aal2: a login through the second factor, a step later (the
  // confirmation spent this step's code).
  clock.advance(30_000)
  const first = await loginRequest(app, user.email)
  const second = await app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: first.json().mfa_token, method: 'totp', code: totpCode(secret, now()) } })
  t.equal(second.statusCode, 200, second.body)
  t.equal((await app.inject({ method: 'DELETE', url: '/api/auth/mfa/totp', headers: bearer(second.json().access) })).statusCode, 204)
  t.same((await mfa()).map(e => [e.type, e.data]), [['mfa.enabled', '{"method":"totp"}'], ['mfa.disabled', '{"method":"totp"}']])
  t.equal((await app.inject({ method: 'DELETE', url: '/api/auth/mfa/totp', headers: bearer(second.json().access) })).statusCode, 404)
  t.equal((await mfa()).length, 2, 'nothing removed, no event')

  await enrolTotp(app, second.json().access, now)
  const admin = await loginAs(app, { superuser: true })
  t.equal((await call(app, admin.access, 'DELETE', `/api/admin/users/${user.id}/mfa`)).statusCode, 204)
  const all = await allEvents(app)
  t.match(all.filter(e => e.type.startsWith('mfa.')).slice(2), [
    { type: 'mfa.enabled', actorId: user.id },
    { type: 'mfa.disabled', subjectId: user.id, actorType: 'user', actorId: admin.id, data: '{"method":"all"}' }
  ], 'an admin reset is the admin\'s act')
  t.match(all.at(-1), { type: 'session.revoked', subjectId: user.id, actorId: admin.id, data: '{"reason":"mfa_reset"}' }, 'and its sessions end with it')
  t.notMatch(JSON.stringify(all), secret, 'the TOTP seed is in no event')
})

test('ending every session of a user with none live records no session.revoked', async t => {
  const app = await build(t)
  const admin = await loginAs(app, { superuser: true })
  const idle = await registerUser(app)
  const active = await loginUser(app)
  for (const user of [idle, active]) t.equal((await call(app, admin.access, 'PATCH', `/api/admin/users/${user.id}`, { is_active: false })).statusCode, 200)
  const revoked = (await allEvents(app)).filter(e => e.type === 'session.revoked')
  t.match(revoked, [{ subjectId: active.id, data: '{"reason":"deactivated"}' }], 'only the user who had a live session')
  t.equal(revoked.length, 1)
})

test('a service client that revokes a user\'s token is the actor of the session.revoked event', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const client = await makeClient(app)
  t.equal((await revokeAs(app, client, user.refresh)).statusCode, 200)
  const other = await loginUser(app, { ...newUser() })
  t.equal((await revokeAs(app, client, other.access)).statusCode, 200)
  const revoked = (await allEvents(app)).filter(e => e.type === 'session.revoked')
  t.match(revoked, [
    { subjectId: user.id, actorType: 'client', actorId: client.client_id },
    { subjectId: other.id, actorType: 'client', actorId: client.client_id }
  ])
  t.ok(revoked.every(e => JSON.parse(e.data).reason === 'oauth_revoke'))
  t.equal((await revokeAs(app, client, user.refresh)).statusCode, 200, 'revoking again: nothing to end')
  t.equal((await allEvents(app)).filter(e => e.type === 'session.revoked').length, 2, 'and no event')
})

test('a group\'s new permissions, or its deletion, are a permissions.changed event for each member, in the same transaction', async t => {
  const app = await build(t)
  const admin = await loginAs(app, { superuser: true })
  const group = await makeGroup(app, 'editors', ['users.view'])
  const members = [await registerUser(app), await registerUser(app)]
  for (const member of members) t.equal((await call(app, admin.access, 'PUT', `/api/admin/users/${member.id}/groups`, { groups: ['editors'] })).statusCode, 200)
  const before = (await allEvents(app)).length

  t.equal((await call(app, admin.access, 'PATCH', `/api/admin/groups/${group.id}`, { name: 'staff-editors' })).statusCode, 200)
  t.equal((await allEvents(app)).length, before, 'a rename changes no one\'s permissions')
  t.equal((await call(app, admin.access, 'PATCH', `/api/admin/groups/${group.id}`, { permissions: ['users.view', 'users.ban'] })).statusCode, 200)
  const changed = (await allEvents(app)).slice(before)
  t.same(changed.map(e => [e.type, e.subjectId, e.actorId, JSON.parse(e.data)]), [...members].sort((a, b) => a.id.localeCompare(b.id)).map(member =>
    ['permissions.changed', member.id, admin.id, { group: 'staff-editors', group_permissions: ['users.ban', 'users.view'] }]))

  t.equal((await call(app, admin.access, 'DELETE', `/api/admin/groups/${group.id}`)).statusCode, 204)
  const deleted = (await allEvents(app)).slice(before + 2)
  t.same(deleted.map(e => [e.type, e.subjectId, JSON.parse(e.data)]), [...members].sort((a, b) => a.id.localeCompare(b.id)).map(member =>
    ['permissions.changed', member.id, { group: 'staff-editors', group_deleted: true }]))
  t.equal((await call(app, admin.access, 'DELETE', `/api/admin/groups/${group.id}`)).statusCode, 404, 'gone: nothing recorded')
  t.equal((await allEvents(app)).length, before + 4)
})
