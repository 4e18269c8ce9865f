import t from 'tap'
import { randomUUID } from 'node:crypto'
import { build } from '../../../helper.js'
import { BUILTIN_PERMISSIONS, call, claimsOf, expectProblem, loginAs, makeGroup, makePermission, me, refreshRequest } from '../../../admin-helper.js'

const GROUP_FIELDS = ['id', 'name', 'permissions']

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

function endpoints (groupId: string): Array<{ name: string, method: Method, url: string, payload?: object, status: number }> {
  return [
    { name: 'listGroups', method: 'GET', url: '/api/admin/groups', status: 200 },
    { name: 'createGroup', method: 'POST', url: '/api/admin/groups', payload: { name: 'new-group' }, status: 201 },
    { name: 'getGroup', method: 'GET', url: `/api/admin/groups/${groupId}`, status: 200 },
    { name: 'updateGroup', method: 'PATCH', url: `/api/admin/groups/${groupId}`, payload: { name: 'renamed' }, status: 200 },
    { name: 'deleteGroup', method: 'DELETE', url: `/api/admin/groups/${groupId}`, status: 204 }
  ]
}

t.test('every group endpoint is 401 without a token and 403 permission_denied without groups.manage', async t => {
  const app = await build(t)
  const group = await makeGroup(app, 'editors')
  const others = await loginAs(app, { permissions: BUILTIN_PERMISSIONS.filter(p => p !== 'groups.manage'), staff: true })
  for (const { name, method, url, payload } of endpoints(group.id)) {
    expectProblem(t, await call(app, undefined, method, url, payload), 401, 'not_authenticated', `${name} without a token`)
    const denied = await call(app, others.access, method, url, payload)
    expectProblem(t, denied, 403, 'permission_denied', `${name} without groups.manage`)
    t.match(denied.json().detail, 'groups.manage')
  }
  t.same((await app.repositories.authorization.listGroups()).map(g => g.name), ['editors'], 'nothing changed')
})

t.test('every group endpoint answers with groups.manage, and to a superuser', async t => {
  const app = await build(t)
  const manager = await loginAs(app, { permissions: ['groups.manage'] })
  const root = await loginAs(app, { superuser: true })
  for (const [who, access] of [['groups.manage', manager.access], ['a superuser', root.access]]) {
    const group = await makeGroup(app, `group-of-${who.replace(/\W/g, '')}`)
    for (const { name, method, url, payload, status } of endpoints(group.id)) {
      const res = await call(app, access, method, url, payload)
      t.equal(res.statusCode, status, `${name} by ${who}: ${res.body.slice(0, 200)}`)
    }
    await app.repositories.authorization.deleteGroup((await app.repositories.authorization.findGroupsByName(['new-group']))[0].id)
  }
})

t.test('POST /groups creates a group; GET lists and reads it', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  await makePermission(app, 'posts.add')
  const res = await call(app, root.access, 'POST', '/api/admin/groups', { name: 'editors', permissions: ['users.view', 'posts.add', 'posts.add'] })
  t.equal(res.statusCode, 201)
  t.same(Object.keys(res.json()).sort(), GROUP_FIELDS)
  t.match(res.json(), { name: 'editors', permissions: ['posts.add', 'users.view'] })
  const id = res.json().id as string
  t.type(id, 'string')

  const bare = await call(app, root.access, 'POST', '/api/admin/groups', { name: 'Auditors' })
  t.equal(bare.statusCode, 201)
  t.same(bare.json().permissions, [], 'permissions are optional')

  const listed = await call(app, root.access, 'GET', '/api/admin/groups')
  t.equal(listed.statusCode, 200)
  t.same(listed.json().map((g: { name: string }) => g.name), ['Auditors', 'editors'], 'by name')
  t.same(listed.json().find((g: { id: string }) => g.id === id), { id, name: 'editors', permissions: ['posts.add', 'users.view'] })

  const one = await call(app, root.access, 'GET', `/api/admin/groups/${id}`)
  t.equal(one.statusCode, 200)
  t.same(one.json(), { id, name: 'editors', permissions: ['posts.add', 'users.view'] })
})

t.test('POST /groups with a taken name is 409 group_exists', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  await makeGroup(app, 'editors')
  const res = await call(app, root.access, 'POST', '/api/admin/groups', { name: 'editors', permissions: ['users.view'] })
  expectProblem(t, res, 409, 'group_exists')
  t.same(res.json().errors, [{ field: 'name', message: 'is already taken' }])
  t.same((await app.repositories.authorization.listGroups()).map(g => [g.name, g.permissions]), [['editors', []]], 'the first group is untouched')
})

t.test('POST /groups with an unknown permission or a malformed body is 400 validation_failed', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ name: 'editors', permissions: ['posts.add'] }, 'permissions'],
    [{ name: 'editors', permissions: ['Posts.add'] }, 'permissions.0'],
    [{ name: 'editors', permissions: ['posts'] }, 'permissions.0'],
    [{ name: 'editors', permissions: 'users.view' }, 'permissions'],
    [{ name: '' }, 'name'],
    [{ name: 'x'.repeat(151) }, 'name'],
    [{ name: 'tab\tname' }, 'name'],
    [{ name: 'joined\u001fname' }, 'name'],
    [{ name: 'invisible\u200bname' }, 'name'],
    [{ permissions: [] }, 'name'],
    [{ name: 'editors', members: [] }, 'members']
  ]
  for (const [payload, field] of cases) {
    const res = await call(app, root.access, 'POST', '/api/admin/groups', payload)
    expectProblem(t, res, 400, 'validation_failed', JSON.stringify(payload).slice(0, 60))
    t.equal(res.json().errors[0].field, field)
  }
  t.same(await app.repositories.authorization.listGroups(), [], 'no group was created')
  const longest = await call(app, root.access, 'POST', '/api/admin/groups', { name: 'é'.repeat(150) })
  t.equal(longest.statusCode, 201, '150 characters, not bytes')
  const spaced = await call(app, root.access, 'POST', '/api/admin/groups', { name: 'Content Team (EU)' })
  t.equal(spaced.statusCode, 201, 'spaces and punctuation are fine')
})

t.test('GET, PATCH and DELETE of an unknown group are 404; a malformed id is 400', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  const id = randomUUID()
  expectProblem(t, await call(app, root.access, 'GET', `/api/admin/groups/${id}`), 404, 'not_found', 'GET')
  expectProblem(t, await call(app, root.access, 'PATCH', `/api/admin/groups/${id}`, { name: 'x' }), 404, 'not_found', 'PATCH')
  expectProblem(t, await call(app, root.access, 'DELETE', `/api/admin/groups/${id}`), 404, 'not_found', 'DELETE')
  expectProblem(t, await call(app, root.access, 'GET', `/api/admin/groups/${'x'.repeat(65)}`), 400, 'validation_failed', 'over-long id')
})

t.test('PATCH /groups/{id} renames a group and replaces its permissions', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  await makePermission(app, 'posts.add')
  const group = await makeGroup(app, 'editors', ['posts.add', 'users.view'])

  const renamed = await call(app, root.access, 'PATCH', `/api/admin/groups/${group.id}`, { name: 'writers' })
  t.equal(renamed.statusCode, 200)
  t.same(renamed.json(), { id: group.id, name: 'writers', permissions: ['posts.add', 'users.view'] }, 'the permissions are left alone')

  const replaced = await call(app, root.access, 'PATCH', `/api/admin/groups/${group.id}`, { permissions: ['audit.view'] })
  t.same(replaced.json(), { id: group.id, name: 'writers', permissions: ['audit.view'] }, 'replaced as a whole')

  const emptied = await call(app, root.access, 'PATCH', `/api/admin/groups/${group.id}`, { permissions: [] })
  t.same(emptied.json().permissions, [])
  const nothing = await call(app, root.access, 'PATCH', `/api/admin/groups/${group.id}`, {})
  t.same(nothing.json(), { id: group.id, name: 'writers', permissions: [] })
  t.same((await call(app, root.access, 'GET', `/api/admin/groups/${group.id}`)).json(), nothing.json())
})

t.test('PATCH /groups/{id} to a taken name is 409 group_exists; unknown permissions and fields are 400', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  await makeGroup(app, 'editors')
  const group = await makeGroup(app, 'writers', ['users.view'])
  expectProblem(t, await call(app, root.access, 'PATCH', `/api/admin/groups/${group.id}`, { name: 'editors' }), 409, 'group_exists')
  expectProblem(t, await call(app, root.access, 'PATCH', `/api/admin/groups/${group.id}`, { permissions: ['nope.never'] }), 400, 'validation_failed')
  expectProblem(t, await call(app, root.access, 'PATCH', `/api/admin/groups/${group.id}`, { name: 'other', id: 'x' }), 400, 'validation_failed')
  expectProblem(t, await call(app, root.access, 'PATCH', `/api/admin/groups/${group.id}`, { name: '' }), 400, 'validation_failed')
  t.same(await app.repositories.authorization.findGroup(group.id), { id: group.id, name: 'writers', permissions: ['users.view'] }, 'nothing changed')
  const same = await call(app, root.access, 'PATCH', `/api/admin/groups/${group.id}`, { name: 'writers' })
  t.equal(same.statusCode, 200, 'keeping its own name is no conflict')
})

t.test('DELETE /groups/{id} is 204; the members lose its permissions at once', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  await makePermission(app, 'posts.add')
  const group = await makeGroup(app, 'viewers', ['users.view', 'posts.add'])
  const member = await loginAs(app, { groups: ['viewers'], permissions: ['posts.add'] })
  t.same(claimsOf(member.access).permissions, ['posts.add', 'users.view'])
  t.equal((await call(app, member.access, 'GET', '/api/admin/users')).statusCode, 200, 'users.view through the group')

  const res = await call(app, root.access, 'DELETE', `/api/admin/groups/${group.id}`)
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  expectProblem(t, await call(app, root.access, 'GET', `/api/admin/groups/${group.id}`), 404, 'not_found', 'GET after DELETE')
  expectProblem(t, await call(app, root.access, 'DELETE', `/api/admin/groups/${group.id}`), 404, 'not_found', 'DELETE again')

  expectProblem(t, await call(app, member.access, 'GET', '/api/admin/users'), 403, 'permission_denied', 'the same token, at once')
  const profile = await me(app, member.access)
  t.same(profile.json().groups, [])
  t.same(profile.json().permissions, ['posts.add'], 'the member keeps its own permissions')
  const refreshed = await refreshRequest(app, member.refresh)
  t.same(claimsOf(refreshed.json().access).groups, [])
  t.same(claimsOf(refreshed.json().access).permissions, ['posts.add'])
})

t.test('a change to a group\'s permissions reaches its members: at once here, in their next token elsewhere', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  const group = await makeGroup(app, 'staff', [])
  const member = await loginAs(app, { groups: ['staff'] })
  expectProblem(t, await call(app, member.access, 'GET', '/api/admin/users'), 403, 'permission_denied', 'before')

  await call(app, root.access, 'PATCH', `/api/admin/groups/${group.id}`, { permissions: ['users.view', 'audit.view'] })
  t.equal((await call(app, member.access, 'GET', '/api/admin/users')).statusCode, 200, 'the old token works: Portcullis reads the database')
  t.same(claimsOf(member.access).permissions, [], 'the old token still claims nothing')
  const refreshed = await refreshRequest(app, member.refresh)
  t.same(claimsOf(refreshed.json().access).permissions, ['audit.view', 'users.view'], 'the next token carries them, sorted')

  await call(app, root.access, 'PATCH', `/api/admin/groups/${group.id}`, { name: 'crew', permissions: [] })
  expectProblem(t, await call(app, refreshed.json().access, 'GET', '/api/admin/users'), 403, 'permission_denied', 'a token that still claims users.view')
  t.same((await me(app, member.access)).json().groups, ['crew'], 'the rename shows at once')
})
