import t from 'tap'
import { randomUUID } from 'node:crypto'
import { build, newUser, registerUser, PASSWORD } from '../../../helper.js'
import {
  ADMIN_USER_FIELDS, BUILTIN_PERMISSIONS, call, claimsOf, expectProblem, login, loginAs, loginRequest, makeGroup,
  me, refreshRequest
} from '../../../admin-helper.js'

type Method = 'GET' | 'PATCH' | 'DELETE' | 'POST' | 'PUT'

/** Every admin user endpoint, with the permission it needs and a request that would succeed. */
function endpoints (targetId: string): Array<{ name: string, permission: string, method: Method, url: string, payload?: object }> {
  return [
    { name: 'listUsers', permission: 'users.view', method: 'GET', url: '/api/admin/users' },
    { name: 'getUser', permission: 'users.view', method: 'GET', url: `/api/admin/users/${targetId}` },
    { name: 'updateUser', permission: 'users.change', method: 'PATCH', url: `/api/admin/users/${targetId}`, payload: { is_staff: true } },
    { name: 'banUser', permission: 'users.ban', method: 'POST', url: `/api/admin/users/${targetId}/ban`, payload: { reason: 'spam' } },
    { name: 'unbanUser', permission: 'users.ban', method: 'POST', url: `/api/admin/users/${targetId}/unban` },
    { name: 'setUserGroups', permission: 'users.change', method: 'PUT', url: `/api/admin/users/${targetId}/groups`, payload: { groups: [] } },
    { name: 'setUserPermissions', permission: 'users.change', method: 'PUT', url: `/api/admin/users/${targetId}/permissions`, payload: { permissions: [] } },
    { name: 'deleteUser', permission: 'users.delete', method: 'DELETE', url: `/api/admin/users/${targetId}` }
  ]
}

t.test('every admin user endpoint without a token is 401 not_authenticated', async t => {
  const app = await build(t)
  const target = await registerUser(app)
  for (const endpoint of endpoints(target.id)) {
    const res = await call(app, undefined, endpoint.method, endpoint.url, endpoint.payload)
    expectProblem(t, res, 401, 'not_authenticated', endpoint.name)
    t.match(res.headers['www-authenticate'], /^Bearer/, `${endpoint.name}: WWW-Authenticate`)
  }
  t.equal((await app.repositories.users.findById(target.id))?.isStaff, false, 'nothing changed')
})

t.test('every admin user endpoint with a bad token is 401 token_not_valid', async t => {
  const app = await build(t)
  const admin = await loginAs(app, { superuser: true })
  for (const endpoint of endpoints(admin.id)) {
    expectProblem(t, await call(app, 'not.a.token', endpoint.method, endpoint.url, endpoint.payload), 401, 'token_not_valid', `${endpoint.name} garbage`)
    expectProblem(t, await call(app, admin.refresh, endpoint.method, endpoint.url, endpoint.payload), 401, 'token_not_valid', `${endpoint.name} refresh token`)
  }
})

t.test('every admin user endpoint is 403 permission_denied without its permission, even with all the others', async t => {
  const app = await build(t)
  const target = await registerUser(app)
  const nobody = await loginAs(app)
  for (const endpoint of endpoints(target.id)) {
    const others = await loginAs(app, { permissions: BUILTIN_PERMISSIONS.filter(p => p !== endpoint.permission), staff: true })
    const res = await call(app, others.access, endpoint.method, endpoint.url, endpoint.payload)
    expectProblem(t, res, 403, 'permission_denied', `${endpoint.name} without ${endpoint.permission}`)
    t.match(res.json().detail, endpoint.permission, `${endpoint.name}: the detail names the missing permission`)
    expectProblem(t, await call(app, nobody.access, endpoint.method, endpoint.url, endpoint.payload), 403, 'permission_denied', `${endpoint.name} with no permission`)
  }
  const after = await app.repositories.users.findById(target.id)
  t.ok(after, 'the target still exists')
  t.equal(after?.isStaff, false, 'the target was not changed')
  t.equal(after?.isBanned, false, 'the target was not banned')
})

t.test('every admin user endpoint answers with just its permission', async t => {
  const app = await build(t)
  for (const endpoint of endpoints('placeholder')) {
    const target = await registerUser(app)
    const holder = await loginAs(app, { permissions: [endpoint.permission] })
    const { method, url, payload } = endpoints(target.id).find(e => e.name === endpoint.name)!
    const res = await call(app, holder.access, method, url, payload)
    t.equal(res.statusCode, method === 'DELETE' ? 204 : 200, `${endpoint.name} with ${endpoint.permission}: ${res.body.slice(0, 200)}`)
  }
})

t.test('a superuser may use every admin user endpoint without holding any permission directly', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  t.same(claimsOf(root.access).permissions, BUILTIN_PERMISSIONS, 'a superuser\'s token claims every permission')
  const target = await registerUser(app)
  for (const { name, method, url, payload } of endpoints(target.id)) {
    const res = await call(app, root.access, method, url, payload)
    t.equal(res.statusCode, method === 'DELETE' ? 204 : 200, `${name}: ${res.body.slice(0, 200)}`)
  }
})

t.test('GET /users/{id} answers the user with its ban fields', async t => {
  const app = await build(t)
  const viewer = await loginAs(app, { permissions: ['users.view'] })
  const target = await registerUser(app)
  const res = await call(app, viewer.access, 'GET', `/api/admin/users/${target.id}`)
  t.equal(res.statusCode, 200)
  t.same(Object.keys(res.json()).sort(), ADMIN_USER_FIELDS)
  t.match(res.json(), { id: target.id, email: target.email, username: target.username, is_active: true, is_banned: false, ban_reason: null, banned_until: null, last_login: null })
  t.notMatch(res.body, /password|\$2[aby]\$/)
})

t.test('GET /users/{id} of an unknown or malformed id is 404 or 400', async t => {
  const app = await build(t)
  const viewer = await loginAs(app, { permissions: ['users.view'] })
  expectProblem(t, await call(app, viewer.access, 'GET', `/api/admin/users/${randomUUID()}`), 404, 'not_found')
  expectProblem(t, await call(app, viewer.access, 'GET', `/api/admin/users/${'x'.repeat(65)}`), 400, 'validation_failed')
})

t.test('PATCH /users/{id} changes the flags and the username', async t => {
  const app = await build(t)
  const changer = await loginAs(app, { permissions: ['users.change'] })
  const target = await registerUser(app)
  const res = await call(app, changer.access, 'PATCH', `/api/admin/users/${target.id}`, { is_staff: true, email_verified: true, username: 'Renamed' })
  t.equal(res.statusCode, 200)
  t.same(Object.keys(res.json()).sort(), ADMIN_USER_FIELDS)
  t.match(res.json(), { id: target.id, is_staff: true, email_verified: true, username: 'Renamed', is_active: true, is_superuser: false })

  const fresh = await loginRequest(app, target.email)
  t.equal(fresh.statusCode, 200)
  t.match(claimsOf(fresh.json().access), { is_staff: true, email_verified: true, username: 'Renamed' }, 'the next token carries the change')
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'renamed', password: PASSWORD } })).statusCode, 200, 'the new username logs in')

  const back = await call(app, changer.access, 'PATCH', `/api/admin/users/${target.id}`, { is_staff: false })
  t.match(back.json(), { is_staff: false, email_verified: true, username: 'Renamed' }, 'fields left out are left alone')
  const nothing = await call(app, changer.access, 'PATCH', `/api/admin/users/${target.id}`, {})
  t.equal(nothing.statusCode, 200, 'an empty patch changes nothing')
  t.equal(nothing.json().username, 'Renamed')
})

t.test('PATCH /users/{id} with a username taken by another user is 409 username_taken', async t => {
  const app = await build(t)
  const changer = await loginAs(app, { permissions: ['users.change'] })
  await registerUser(app, newUser({ username: 'Hopper' }))
  const target = await registerUser(app)
  for (const username of ['Hopper', 'hopper', changer.username]) {
    const res = await call(app, changer.access, 'PATCH', `/api/admin/users/${target.id}`, { username, is_staff: true })
    expectProblem(t, res, 409, 'username_taken', username)
    t.same(res.json().errors, [{ field: 'username', message: 'is already taken' }])
  }
  const after = await app.repositories.users.findById(target.id)
  t.equal(after?.username, target.username, 'nothing changed')
  t.equal(after?.isStaff, false, 'not even the other fields')
  const ownCase = await call(app, changer.access, 'PATCH', `/api/admin/users/${target.id}`, { username: target.username.toUpperCase() })
  t.equal(ownCase.statusCode, 200, 'the user\'s own username in another case is not taken')
})

t.test('PATCH /users/{id} with an unknown or malformed field is 400 validation_failed', async t => {
  const app = await build(t)
  const changer = await loginAs(app, { permissions: ['users.change'] })
  const target = await registerUser(app)
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ email: 'new@example.com' }, 'email'],
    [{ is_banned: true }, 'is_banned'],
    [{ password: 'new password 1' }, 'password'],
    [{ is_staff: 'yes' }, 'is_staff'],
    [{ is_active: 1 }, 'is_active'],
    [{ username: 'has space' }, 'username'],
    [{ username: '' }, 'username'],
    [{ username: null }, 'username']
  ]
  for (const [payload, field] of cases) {
    const res = await call(app, changer.access, 'PATCH', `/api/admin/users/${target.id}`, payload)
    expectProblem(t, res, 400, 'validation_failed', JSON.stringify(payload))
    t.equal(res.json().errors[0].field, field)
  }
  const noBody = await app.inject({ method: 'PATCH', url: `/api/admin/users/${target.id}`, headers: { authorization: `Bearer ${changer.access}` } })
  expectProblem(t, noBody, 400, 'validation_failed', 'no body')
  const after = await app.repositories.users.findById(target.id)
  t.match(after, { email: target.email, username: target.username, isBanned: false, isStaff: false, isActive: true })
})

t.test('PATCH /users/{id} of an unknown user is 404', async t => {
  const app = await build(t)
  const changer = await loginAs(app, { permissions: ['users.change'] })
  expectProblem(t, await call(app, changer.access, 'PATCH', `/api/admin/users/${randomUUID()}`, { is_staff: true }), 404, 'not_found')
})

t.test('PATCH is_active false revokes the sessions; login is 403 account_disabled, refresh 401; true lets the user back', async t => {
  const app = await build(t)
  const changer = await loginAs(app, { permissions: ['users.change'] })
  const target = await loginAs(app)
  const second = await login(app, target.email)

  const res = await call(app, changer.access, 'PATCH', `/api/admin/users/${target.id}`, { is_active: false })
  t.equal(res.statusCode, 200)
  t.equal(res.json().is_active, false)

  for (const token of [target.refresh, second.refresh]) expectProblem(t, await refreshRequest(app, token), 401, 'token_not_valid', 'refresh')
  expectProblem(t, await me(app, target.access), 401, 'user_inactive', 'the unexpired access token')
  expectProblem(t, await loginRequest(app, target.email), 403, 'account_disabled', 'login with the right password')
  expectProblem(t, await loginRequest(app, target.email, 'wrong password 1'), 401, 'invalid_credentials', 'a wrong password reveals nothing')
  t.same(await app.repositories.sessions.listLive(target.id, new Date()), [], 'no live session is left')

  const again = await call(app, changer.access, 'PATCH', `/api/admin/users/${target.id}`, { is_active: true })
  t.equal(again.json().is_active, true)
  const relogin = await loginRequest(app, target.email)
  t.equal(relogin.statusCode, 200, 'reactivated')
  expectProblem(t, await refreshRequest(app, target.refresh), 401, 'token_not_valid', 'the revoked sessions stay revoked')
})

t.test('DELETE /users/{id} is 204; the user\'s tokens die and it is gone', async t => {
  const app = await build(t)
  const admin = await loginAs(app, { permissions: ['users.delete', 'users.view'] })
  const target = await loginAs(app)
  const bystander = await loginAs(app)

  const res = await call(app, admin.access, 'DELETE', `/api/admin/users/${target.id}`)
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  expectProblem(t, await refreshRequest(app, target.refresh), 401, 'token_not_valid', 'refresh')
  expectProblem(t, await me(app, target.access), 401, 'user_inactive', 'the unexpired access token')
  expectProblem(t, await loginRequest(app, target.email), 401, 'invalid_credentials', 'no such account any more')
  expectProblem(t, await call(app, admin.access, 'GET', `/api/admin/users/${target.id}`), 404, 'not_found', 'GET after DELETE')
  expectProblem(t, await call(app, admin.access, 'DELETE', `/api/admin/users/${target.id}`), 404, 'not_found', 'DELETE again')
  t.equal((await me(app, bystander.access)).statusCode, 200, 'other users are unaffected')

  const again = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: target.email, username: target.username, password: PASSWORD } })
  t.equal(again.statusCode, 201, 'the email and username are free again')
  t.not(again.json().user.id, target.id, 'ids are never reused')
})

t.test('DELETE /users/{id} takes the user\'s groups and permissions with it', async t => {
  const app = await build(t)
  const admin = await loginAs(app, { superuser: true })
  await makeGroup(app, 'editors', ['users.view'])
  const target = await loginAs(app, { groups: ['editors'], permissions: ['audit.view'] })
  t.equal((await call(app, admin.access, 'DELETE', `/api/admin/users/${target.id}`)).statusCode, 204)
  t.same(await app.repositories.authorization.direct(target.id), { groups: [], permissions: [] })
  const group = await call(app, admin.access, 'GET', '/api/admin/groups')
  t.same(group.json().map((g: { name: string }) => g.name), ['editors'], 'the group itself stays')
})

t.test('the admin bodies refuse what is not a JSON object: 400, 413, 415, never 500', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  const target = await registerUser(app)
  const group = await makeGroup(app, 'editors')
  const routes: Array<['POST' | 'PATCH' | 'PUT', string]> = [
    ['PATCH', `/api/admin/users/${target.id}`],
    ['POST', `/api/admin/users/${target.id}/ban`],
    ['PUT', `/api/admin/users/${target.id}/groups`],
    ['PUT', `/api/admin/users/${target.id}/permissions`],
    ['POST', '/api/admin/groups'],
    ['PATCH', `/api/admin/groups/${group.id}`],
    ['POST', '/api/admin/permissions']
  ]
  const cases: Array<[string, string, string, number, string]> = [
    ['malformed JSON', '{"is_staff":', 'application/json', 400, 'malformed_request'],
    ['a JSON array', '[]', 'application/json', 400, 'validation_failed'],
    ['a JSON string', '"x"', 'application/json', 400, 'validation_failed'],
    ['JSON null', 'null', 'application/json', 400, 'validation_failed'],
    ['text/plain', 'is_staff=true', 'text/plain', 415, 'unsupported_media_type'],
    ['a form', 'is_staff=true', 'application/x-www-form-urlencoded', 415, 'unsupported_media_type'],
    ['over 64 KiB', JSON.stringify({ name: 'x'.repeat(65 * 1024) }), 'application/json', 413, 'payload_too_large']
  ]
  for (const [method, url] of routes) {
    for (const [name, payload, contentType, status, code] of cases) {
      const res = await app.inject({ method, url, payload, headers: { authorization: `Bearer ${root.access}`, 'content-type': contentType } })
      expectProblem(t, res, status, code, `${method} ${url.replace(/[0-9a-f-]{36}|group-\w+/g, '{id}')}: ${name}`)
    }
  }
  t.match(await app.repositories.users.findById(target.id), { isStaff: false, isBanned: false }, 'nothing changed')
})
