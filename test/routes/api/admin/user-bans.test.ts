import t from 'tap'
import { randomUUID } from 'node:crypto'
import { build } from '../../../helper.js'
import { ADMIN_USER_FIELDS, call, expectProblem, login, loginAs, loginRequest, me, refreshRequest } from '../../../admin-helper.js'

const HOUR_MS = 60 * 60 * 1000

t.test('POST /users/{id}/ban: refresh tokens die, access tokens are refused, login is 403 account_banned after the right password', async t => {
  const app = await build(t)
  const banner = await loginAs(app, { permissions: ['users.ban', 'users.view'] })
  const target = await loginAs(app)
  const second = await login(app, target.email)
  const bystander = await loginAs(app)

  const res = await call(app, banner.access, 'POST', `/api/admin/users/${target.id}/ban`, { reason: 'Spam' })
  t.equal(res.statusCode, 200)
  t.same(Object.keys(res.json()).sort(), ADMIN_USER_FIELDS)
  t.match(res.json(), { id: target.id, is_banned: true, ban_reason: 'Spam', banned_until: null, is_active: true })

  for (const token of [target.refresh, second.refresh]) expectProblem(t, await refreshRequest(app, token), 401, 'token_not_valid', 'refresh')
  expectProblem(t, await me(app, target.access), 401, 'user_inactive', 'the unexpired access token')
  expectProblem(t, await me(app, second.access), 401, 'user_inactive', 'the other session\'s access token')
  expectProblem(t, await loginRequest(app, target.email), 403, 'account_banned', 'the right password')
  expectProblem(t, await loginRequest(app, target.email, 'wrong password 1'), 401, 'invalid_credentials', 'a wrong password')

  const shown = await call(app, banner.access, 'GET', `/api/admin/users/${target.id}`)
  t.match(shown.json(), { is_banned: true, ban_reason: 'Spam', banned_until: null })
  t.equal((await me(app, bystander.access)).statusCode, 200, 'other users are unaffected')
  t.equal((await refreshRequest(app, bystander.refresh)).statusCode, 200)
})

t.test('POST /users/{id}/ban without a body bans without end or reason', async t => {
  const app = await build(t)
  const banner = await loginAs(app, { permissions: ['users.ban'] })
  const target = await loginAs(app)
  const res = await app.inject({ method: 'POST', url: `/api/admin/users/${target.id}/ban`, headers: { authorization: `Bearer ${banner.access}` } })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { is_banned: true, ban_reason: null, banned_until: null })
  expectProblem(t, await loginRequest(app, target.email), 403, 'account_banned')
})

t.test('a ban with until ends by itself when the clock passes it', async t => {
  let clock = new Date()
  const app = await build(t, {}, { now: () => clock })
  const banner = await loginAs(app, { permissions: ['users.ban', 'users.view'] })
  const target = await loginAs(app)
  const until = new Date(clock.getTime() + HOUR_MS)

  const res = await call(app, banner.access, 'POST', `/api/admin/users/${target.id}/ban`, { reason: 'Cool off', until: until.toISOString() })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { is_banned: true, ban_reason: 'Cool off', banned_until: until.toISOString() })
  expectProblem(t, await refreshRequest(app, target.refresh), 401, 'token_not_valid', 'refresh during the ban')
  expectProblem(t, await loginRequest(app, target.email), 403, 'account_banned', 'login during the ban')

  clock = new Date(until.getTime() - 1000)
  expectProblem(t, await loginRequest(app, target.email), 403, 'account_banned', 'a second before the end')

  clock = new Date(until.getTime() + 1000)
  const after = await loginRequest(app, target.email)
  t.equal(after.statusCode, 200, 'the ban is over')
  t.equal((await me(app, after.json().access)).statusCode, 200)
  t.equal((await refreshRequest(app, after.json().refresh)).statusCode, 200)
  expectProblem(t, await refreshRequest(app, target.refresh), 401, 'token_not_valid', 'the sessions the ban revoked stay revoked')
})

t.test('POST /users/{id}/ban with a date in the past or a malformed body is 400 and bans nobody', async t => {
  let clock = new Date()
  const app = await build(t, {}, { now: () => clock })
  const banner = await loginAs(app, { permissions: ['users.ban'] })
  const target = await loginAs(app)
  clock = new Date(clock.getTime() + 10 * HOUR_MS)
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ until: new Date(clock.getTime() - 1000).toISOString() }, 'until'],
    [{ until: clock.toISOString() }, 'until'],
    [{ until: new Date(Date.now() + HOUR_MS).toISOString() }, 'until'],
    [{ until: 'tomorrow' }, 'until'],
    [{ until: '2099-01-01' }, 'until'],
    [{ until: '2099-06-30T23:59:60Z' }, 'until'],
    [{ until: 1_900_000_000 }, 'until'],
    [{ reason: 'x'.repeat(501) }, 'reason'],
    [{ reason: 42 }, 'reason'],
    [{ reason: 'spam', forever: true }, 'forever']
  ]
  for (const [payload, field] of cases) {
    const res = await call(app, banner.access, 'POST', `/api/admin/users/${target.id}/ban`, payload)
    expectProblem(t, res, 400, 'validation_failed', JSON.stringify(payload).slice(0, 60))
    t.equal(res.json().errors[0].field, field)
  }
  t.equal((await app.repositories.users.findById(target.id))?.isBanned, false, 'not banned')
  t.equal((await refreshRequest(app, target.refresh)).statusCode, 200, 'the sessions live on')
  const longest = await call(app, banner.access, 'POST', `/api/admin/users/${target.id}/ban`, { reason: 'x'.repeat(500), until: new Date(clock.getTime() + HOUR_MS).toISOString() })
  t.equal(longest.statusCode, 200, '500 characters and a future date are fine')
})

t.test('POST /users/{id}/unban lets the user log in again', async t => {
  const app = await build(t)
  const banner = await loginAs(app, { permissions: ['users.ban'] })
  const target = await loginAs(app)
  await call(app, banner.access, 'POST', `/api/admin/users/${target.id}/ban`, { reason: 'Spam', until: new Date(Date.now() + HOUR_MS).toISOString() })
  expectProblem(t, await loginRequest(app, target.email), 403, 'account_banned')

  const res = await call(app, banner.access, 'POST', `/api/admin/users/${target.id}/unban`)
  t.equal(res.statusCode, 200)
  t.match(res.json(), { id: target.id, is_banned: false, ban_reason: null, banned_until: null })
  const relogin = await loginRequest(app, target.email)
  t.equal(relogin.statusCode, 200)
  t.equal((await me(app, relogin.json().access)).statusCode, 200)
  const twice = await call(app, banner.access, 'POST', `/api/admin/users/${target.id}/unban`)
  t.equal(twice.statusCode, 200, 'unbanning a user who is not banned is harmless')
})

t.test('ban and unban of an unknown user are 404', async t => {
  const app = await build(t)
  const banner = await loginAs(app, { permissions: ['users.ban'] })
  const id = randomUUID()
  expectProblem(t, await call(app, banner.access, 'POST', `/api/admin/users/${id}/ban`, {}), 404, 'not_found')
  expectProblem(t, await call(app, banner.access, 'POST', `/api/admin/users/${id}/unban`), 404, 'not_found')
})
