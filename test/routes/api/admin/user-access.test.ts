import t from 'tap'
import { randomUUID } from 'node:crypto'
import { build } from '../../../helper.js'
import { ADMIN_USER_FIELDS, call, claimsOf, expectProblem, login, loginAs, makeGroup, makePermission, me, refreshRequest } from '../../../admin-helper.js'

t.test('PUT /users/{id}/permissions replaces the user\'s own permissions; unknown codenames are 400', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  await makePermission(app, 'posts.add')
  await makePermission(app, 'posts.publish')
  const target = await loginAs(app, { permissions: ['audit.view'] })

  const res = await call(app, root.access, 'PUT', `/api/admin/users/${target.id}/permissions`, { permissions: ['posts.publish', 'posts.add', 'posts.add'] })
  t.equal(res.statusCode, 200)
  t.same(Object.keys(res.json()).sort(), ADMIN_USER_FIELDS)
  t.same(res.json().permissions, ['posts.add', 'posts.publish'], 'replaced, deduplicated and sorted')

  for (const permissions of [['posts.delete'], ['posts.add', 'nope.nothing']]) {
    const bad = await call(app, root.access, 'PUT', `/api/admin/users/${target.id}/permissions`, { permissions })
    expectProblem(t, bad, 400, 'validation_failed', permissions.join(','))
    t.equal(bad.json().errors[0].field, 'permissions')
  }
  for (const payload of [{ permissions: ['Posts.Add'] }, { permissions: 'posts.add' }, {}, { permissions: [], groups: [] }]) {
    expectProblem(t, await call(app, root.access, 'PUT', `/api/admin/users/${target.id}/permissions`, payload), 400, 'validation_failed', JSON.stringify(payload))
  }
  t.same((await me(app, target.access)).json().permissions, ['posts.add', 'posts.publish'], 'the refused requests changed nothing')

  const cleared = await call(app, root.access, 'PUT', `/api/admin/users/${target.id}/permissions`, { permissions: [] })
  t.same(cleared.json().permissions, [])
  expectProblem(t, await call(app, root.access, 'PUT', `/api/admin/users/${randomUUID()}/permissions`, { permissions: [] }), 404, 'not_found')
})

t.test('PUT /users/{id}/groups replaces the user\'s groups; unknown names are 400', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  await makePermission(app, 'posts.add')
  await makeGroup(app, 'editors', ['posts.add'])
  await makeGroup(app, 'viewers', ['users.view'])
  const target = await loginAs(app)

  const res = await call(app, root.access, 'PUT', `/api/admin/users/${target.id}/groups`, { groups: ['viewers', 'editors'] })
  t.equal(res.statusCode, 200)
  t.same(res.json().groups, ['editors', 'viewers'])
  t.same(res.json().permissions, ['posts.add', 'users.view'])

  const bad = await call(app, root.access, 'PUT', `/api/admin/users/${target.id}/groups`, { groups: ['editors', 'ghosts'] })
  expectProblem(t, bad, 400, 'validation_failed')
  t.same(bad.json().errors, [{ field: 'groups', message: 'no group named "ghosts"' }])
  for (const payload of [{ groups: [''] }, { groups: ['bad\u0000name'] }, { groups: 'editors' }, { names: [] }]) {
    expectProblem(t, await call(app, root.access, 'PUT', `/api/admin/users/${target.id}/groups`, payload), 400, 'validation_failed', JSON.stringify(payload))
  }
  t.same((await me(app, target.access)).json().groups, ['editors', 'viewers'], 'the refused requests changed nothing')

  const fewer = await call(app, root.access, 'PUT', `/api/admin/users/${target.id}/groups`, { groups: ['editors'] })
  t.same(fewer.json().groups, ['editors'])
  t.same(fewer.json().permissions, ['posts.add'])
  expectProblem(t, await call(app, root.access, 'PUT', `/api/admin/users/${randomUUID()}/groups`, { groups: [] }), 404, 'not_found')
})

t.test('/api/auth/me shows the groups and the effective permissions: own and groups\', each once', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  await makePermission(app, 'posts.add')
  await makePermission(app, 'posts.publish')
  await makeGroup(app, 'editors', ['posts.add', 'users.view'])
  await makeGroup(app, 'auditors', ['audit.view', 'users.view'])
  const target = await loginAs(app)
  await call(app, root.access, 'PUT', `/api/admin/users/${target.id}/groups`, { groups: ['editors', 'auditors'] })
  await call(app, root.access, 'PUT', `/api/admin/users/${target.id}/permissions`, { permissions: ['posts.publish', 'posts.add'] })
  const res = await me(app, target.access)
  t.equal(res.statusCode, 200)
  t.same(res.json().groups, ['auditors', 'editors'])
  t.same(res.json().permissions, ['audit.view', 'posts.add', 'posts.publish', 'users.view'])
  t.equal((await call(app, target.access, 'GET', '/api/admin/users')).statusCode, 200, 'users.view through a group opens the list')
})

t.test('group and permission changes show in the tokens issued after them, sorted', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  await makePermission(app, 'posts.add')
  await makeGroup(app, 'zeta', ['posts.add'])
  await makeGroup(app, 'alpha', ['users.view'])
  const target = await loginAs(app)
  t.same(claimsOf(target.access).groups, [])
  t.same(claimsOf(target.access).permissions, [])

  await call(app, root.access, 'PUT', `/api/admin/users/${target.id}/groups`, { groups: ['zeta', 'alpha'] })
  await call(app, root.access, 'PUT', `/api/admin/users/${target.id}/permissions`, { permissions: ['users.ban', 'audit.view'] })
  t.same(claimsOf(target.access).permissions, [], 'a token already issued is not changed')

  const refreshed = await refreshRequest(app, target.refresh)
  t.equal(refreshed.statusCode, 200)
  t.same(claimsOf(refreshed.json().access).groups, ['alpha', 'zeta'], 'refresh: groups, sorted')
  t.same(claimsOf(refreshed.json().access).permissions, ['audit.view', 'posts.add', 'users.ban', 'users.view'], 'refresh: own and groups\' permissions, sorted')

  await call(app, root.access, 'PUT', `/api/admin/users/${target.id}/groups`, { groups: [] })
  const fresh = await login(app, target.email)
  t.same(claimsOf(fresh.access).groups, [], 'login after leaving the groups')
  t.same(claimsOf(fresh.access).permissions, ['audit.view', 'users.ban'])
})
