import t from 'tap'
import { randomUUID, sign } from 'node:crypto'
import { build, testPrivateKey } from '../helper.js'
import { BUILTIN_PERMISSIONS, call, claimsOf, expectProblem, loginAs, loginRequest, makeGroup, me } from '../admin-helper.js'

const ALL_BUT_SUPERUSER = { permissions: BUILTIN_PERMISSIONS, staff: true }

/** Re-signs a real access token with changed claims, using the app's own key: a token Portcullis would accept. */
function forge (access: string, changes: Record<string, unknown>): string {
  const [header] = access.split('.')
  const payload = Buffer.from(JSON.stringify({ ...claimsOf(access), ...changes, jti: randomUUID() })).toString('base64url')
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), testPrivateKey()).toString('base64url')
  return `${header}.${payload}.${signature}`
}

t.test('only a superuser may grant is_superuser: staff with users.change is 403 and nothing changes', async t => {
  const app = await build(t)
  const staff = await loginAs(app, ALL_BUT_SUPERUSER)
  const target = await loginAs(app)
  for (const [who, id] of [['another user', target.id], ['themselves', staff.id]]) {
    for (const payload of [{ is_superuser: true }, { is_staff: true, username: `renamed${who.length}`, is_superuser: true }]) {
      const res = await call(app, staff.access, 'PATCH', `/api/admin/users/${id}`, payload)
      expectProblem(t, res, 403, 'permission_denied', `${who}: ${JSON.stringify(payload)}`)
      t.match(res.json().detail, /superuser/)
    }
  }
  t.match(await app.repositories.users.findById(target.id), { isSuperuser: false, isStaff: false, username: target.username }, 'the target is unchanged, every field')
  t.match(await app.repositories.users.findById(staff.id), { isSuperuser: false, username: staff.username }, 'the actor is unchanged')
  expectProblem(t, await call(app, staff.access, 'GET', '/api/admin/groups/none'), 404, 'not_found', 'groups.manage still works: no hidden promotion')
  const noChange = await call(app, staff.access, 'PATCH', `/api/admin/users/${target.id}`, { is_superuser: false })
  t.equal(noChange.statusCode, 200, 'restating is_superuser: false of a non-superuser changes nothing and is allowed')
})

t.test('a superuser may grant and remove is_superuser; the change applies to live tokens at once', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  const target = await loginAs(app)
  expectProblem(t, await call(app, target.access, 'GET', '/api/admin/groups'), 403, 'permission_denied', 'before')

  const granted = await call(app, root.access, 'PATCH', `/api/admin/users/${target.id}`, { is_superuser: true })
  t.equal(granted.statusCode, 200)
  t.equal(granted.json().is_superuser, true)
  t.same(granted.json().permissions, BUILTIN_PERMISSIONS, 'a superuser holds every permission')
  t.equal((await call(app, target.access, 'GET', '/api/admin/groups')).statusCode, 200, 'the same token now passes')

  const removed = await call(app, root.access, 'PATCH', `/api/admin/users/${target.id}`, { is_superuser: false })
  t.equal(removed.statusCode, 200)
  t.equal(removed.json().is_superuser, false)
  t.same(removed.json().permissions, [])
  expectProblem(t, await call(app, target.access, 'GET', '/api/admin/groups'), 403, 'permission_denied', 'and fails again at once')
})

t.test('a non-superuser cannot change, ban, unban, re-group or delete a superuser', async t => {
  const app = await build(t)
  const staff = await loginAs(app, ALL_BUT_SUPERUSER)
  const root = await loginAs(app, { superuser: true })
  await makeGroup(app, 'empty')
  const attempts: Array<['PATCH' | 'POST' | 'PUT' | 'DELETE', string, object | undefined]> = [
    ['PATCH', '', { is_superuser: false }],
    ['PATCH', '', { is_active: false }],
    ['PATCH', '', { username: 'demoted' }],
    ['POST', '/ban', { reason: 'coup' }],
    ['POST', '/unban', undefined],
    ['PUT', '/groups', { groups: ['empty'] }],
    ['PUT', '/permissions', { permissions: [] }],
    ['DELETE', '', undefined]
  ]
  for (const [method, suffix, payload] of attempts) {
    const res = await call(app, staff.access, method, `/api/admin/users/${root.id}${suffix}`, payload)
    expectProblem(t, res, 403, 'permission_denied', `${method} ${suffix || '/'} ${JSON.stringify(payload ?? '')}`)
    t.match(res.json().detail, /Only a superuser/)
  }
  t.match(await app.repositories.users.findById(root.id), { isSuperuser: true, isActive: true, isBanned: false, username: root.username }, 'the superuser is untouched')
  t.same((await app.repositories.authorization.direct(root.id)).groups, [])
  t.equal((await me(app, root.access)).statusCode, 200, 'and its session lives')
  t.equal((await loginRequest(app, root.email)).statusCode, 200)
  t.equal((await call(app, staff.access, 'GET', `/api/admin/users/${root.id}`)).statusCode, 200, 'viewing a superuser is fine')
})

t.test('a superuser can change, ban and delete another superuser', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  const other = await loginAs(app, { superuser: true })
  t.equal((await call(app, root.access, 'PATCH', `/api/admin/users/${other.id}`, { is_staff: true })).statusCode, 200)
  t.equal((await call(app, root.access, 'POST', `/api/admin/users/${other.id}/ban`, {})).statusCode, 200)
  expectProblem(t, await me(app, other.access), 401, 'user_inactive', 'the banned superuser\'s token')
  expectProblem(t, await loginRequest(app, other.email), 403, 'account_banned')
  t.equal((await call(app, root.access, 'POST', `/api/admin/users/${other.id}/unban`)).statusCode, 200)
  t.equal((await call(app, root.access, 'DELETE', `/api/admin/users/${other.id}`)).statusCode, 204)
})

t.test('nobody grants a permission they lack: PUT permissions with one the actor does not hold is 403', async t => {
  const app = await build(t)
  const actor = await loginAs(app, { permissions: ['users.change', 'users.view'] })
  const target = await loginAs(app, { permissions: ['audit.view'] })
  for (const permissions of [['users.ban'], ['users.view', 'users.delete'], ['audit.view', 'groups.manage']]) {
    const res = await call(app, actor.access, 'PUT', `/api/admin/users/${target.id}/permissions`, { permissions })
    expectProblem(t, res, 403, 'permission_denied', permissions.join(','))
    t.match(res.json().detail, /missing: /)
  }
  t.same((await app.repositories.authorization.direct(target.id)).permissions, ['audit.view'], 'the target is unchanged')

  const self = await call(app, actor.access, 'PUT', `/api/admin/users/${actor.id}/permissions`, { permissions: ['users.change', 'users.view', 'users.delete'] })
  expectProblem(t, self, 403, 'permission_denied', 'not to themselves either')
  t.same((await app.repositories.authorization.direct(actor.id)).permissions, ['users.change', 'users.view'])

  const held = await call(app, actor.access, 'PUT', `/api/admin/users/${target.id}/permissions`, { permissions: ['audit.view', 'users.view'] })
  t.equal(held.statusCode, 200, 'granting what the actor holds, and keeping what the target had')
  t.same(held.json().permissions, ['audit.view', 'users.view'])
  const removed = await call(app, actor.access, 'PUT', `/api/admin/users/${target.id}/permissions`, { permissions: [] })
  t.equal(removed.statusCode, 200, 'taking away is not granting')
  t.same(removed.json().permissions, [])
})

t.test('adding a user to a group hands out its permissions: the actor must hold them all', async t => {
  const app = await build(t)
  await makeGroup(app, 'admins', ['users.delete', 'users.view'])
  await makeGroup(app, 'viewers', ['users.view'])
  const actor = await loginAs(app, { permissions: ['users.change', 'users.view'] })
  const target = await loginAs(app)
  const member = await loginAs(app, { groups: ['admins'] })

  const res = await call(app, actor.access, 'PUT', `/api/admin/users/${target.id}/groups`, { groups: ['admins'] })
  expectProblem(t, res, 403, 'permission_denied', 'a group with a permission the actor lacks')
  t.match(res.json().detail, /users\.delete/)
  expectProblem(t, await call(app, actor.access, 'PUT', `/api/admin/users/${actor.id}/groups`, { groups: ['viewers', 'admins'] }), 403, 'permission_denied', 'themselves')
  t.same((await app.repositories.authorization.direct(target.id)).groups, [], 'the target is in no group')
  t.same((await app.repositories.authorization.direct(actor.id)).groups, [], 'nor is the actor')
  expectProblem(t, await call(app, actor.access, 'DELETE', `/api/admin/users/${target.id}`), 403, 'permission_denied', 'the actor did not gain users.delete')

  const allowed = await call(app, actor.access, 'PUT', `/api/admin/users/${target.id}/groups`, { groups: ['viewers'] })
  t.equal(allowed.statusCode, 200, 'a group of held permissions')
  t.same(allowed.json().groups, ['viewers'])
  const kept = await call(app, actor.access, 'PUT', `/api/admin/users/${member.id}/groups`, { groups: ['admins', 'viewers'] })
  t.equal(kept.statusCode, 200, 'keeping a user in a group it is already in grants nothing new')
  const left = await call(app, actor.access, 'PUT', `/api/admin/users/${member.id}/groups`, { groups: [] })
  t.equal(left.statusCode, 200, 'removing from a group grants nothing')
})

t.test('a groups.manage holder cannot put a permission they lack into a group', async t => {
  const app = await build(t)
  const manager = await loginAs(app, { permissions: ['groups.manage', 'users.view'] })
  const created = await call(app, manager.access, 'POST', '/api/admin/groups', { name: 'sneaky', permissions: ['users.view', 'users.delete'] })
  expectProblem(t, created, 403, 'permission_denied', 'create with a permission the manager lacks')
  t.match(created.json().detail, /users\.delete/)
  t.same(await app.repositories.authorization.listGroups(), [], 'no group was created')

  const own = await makeGroup(app, 'mine', ['users.view'])
  await app.repositories.authorization.setUserGroups(manager.id, [own.id])
  const patched = await call(app, manager.access, 'PATCH', `/api/admin/groups/${own.id}`, { permissions: ['users.view', 'users.ban'] })
  expectProblem(t, patched, 403, 'permission_denied', 'add to the manager\'s own group a permission it lacks')
  t.same((await app.repositories.authorization.findGroup(own.id))?.permissions, ['users.view'], 'the group is unchanged')
  expectProblem(t, await call(app, manager.access, 'POST', `/api/admin/users/${manager.id}/ban`, {}), 403, 'permission_denied', 'no users.ban was gained')

  const powerful = await makeGroup(app, 'powerful', ['users.delete'])
  const renamed = await call(app, manager.access, 'PATCH', `/api/admin/groups/${powerful.id}`, { name: 'mighty', permissions: ['users.delete', 'users.view'] })
  t.equal(renamed.statusCode, 200, 'renaming and keeping what was there grants nothing new')
  t.same(renamed.json().permissions, ['users.delete', 'users.view'])
  const fine = await call(app, manager.access, 'POST', '/api/admin/groups', { name: 'readers', permissions: ['users.view', 'groups.manage'] })
  t.equal(fine.statusCode, 201, 'a group of held permissions')
  const joined = await call(app, manager.access, 'PUT', `/api/admin/users/${manager.id}/groups`, { groups: ['mighty'] })
  expectProblem(t, joined, 403, 'permission_denied', 'groups.manage does not let a user change memberships')
})

t.test('a permission revoked while a token still claims it is refused at once', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  const viewer = await loginAs(app, { permissions: ['users.view'] })
  t.same(claimsOf(viewer.access).permissions, ['users.view'], 'the token claims it')
  t.equal((await call(app, viewer.access, 'GET', '/api/admin/users')).statusCode, 200)

  t.equal((await call(app, root.access, 'PUT', `/api/admin/users/${viewer.id}/permissions`, { permissions: [] })).statusCode, 200)
  expectProblem(t, await call(app, viewer.access, 'GET', '/api/admin/users'), 403, 'permission_denied', 'the same, unexpired token')
  t.equal((await me(app, viewer.access)).statusCode, 200, 'the token itself is still good')
  t.same((await me(app, viewer.access)).json().permissions, [])
})

t.test('a token whose claims are forged with the real key to add permissions gets none of them', async t => {
  const app = await build(t)
  const user = await loginAs(app)
  const forged = forge(user.access, { permissions: BUILTIN_PERMISSIONS, groups: ['admins'], is_staff: true })
  t.equal((await me(app, forged)).statusCode, 200, 'the forged token is accepted as a token')
  t.same((await me(app, forged)).json().permissions, [], 'but the database decides what the user holds')
  for (const url of ['/api/admin/users', '/api/admin/groups', '/api/admin/permissions']) {
    expectProblem(t, await call(app, forged, 'GET', url), 403, 'permission_denied', url)
  }
})

t.test('an admin who is banned, deactivated or deleted loses the admin API at once', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  const banned = await loginAs(app, ALL_BUT_SUPERUSER)
  const disabled = await loginAs(app, ALL_BUT_SUPERUSER)
  const deleted = await loginAs(app, ALL_BUT_SUPERUSER)
  t.equal((await call(app, root.access, 'POST', `/api/admin/users/${banned.id}/ban`, {})).statusCode, 200)
  t.equal((await call(app, root.access, 'PATCH', `/api/admin/users/${disabled.id}`, { is_active: false })).statusCode, 200)
  t.equal((await call(app, root.access, 'DELETE', `/api/admin/users/${deleted.id}`)).statusCode, 204)
  for (const [who, access] of [['banned', banned.access], ['disabled', disabled.access], ['deleted', deleted.access]]) {
    expectProblem(t, await call(app, access, 'GET', '/api/admin/users'), 401, 'user_inactive', who)
  }
})
