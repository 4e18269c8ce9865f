import t from 'tap'
import { build } from '../../../helper.js'
import { BUILTIN_PERMISSIONS, call, expectProblem, loginAs, makePermission, me } from '../../../admin-helper.js'

t.test('the permission endpoints are 401 without a token and 403 permission_denied without groups.manage', async t => {
  const app = await build(t)
  const others = await loginAs(app, { permissions: BUILTIN_PERMISSIONS.filter(p => p !== 'groups.manage'), staff: true })
  const requests: Array<['GET' | 'POST', object | undefined]> = [['GET', undefined], ['POST', { codename: 'posts.add', description: 'Can add posts' }]]
  for (const [method, payload] of requests) {
    expectProblem(t, await call(app, undefined, method, '/api/admin/permissions', payload), 401, 'not_authenticated', `${method} without a token`)
    const denied = await call(app, others.access, method, '/api/admin/permissions', payload)
    expectProblem(t, denied, 403, 'permission_denied', `${method} without groups.manage`)
    t.match(denied.json().detail, 'groups.manage')
  }
  t.same((await app.repositories.authorization.listPermissions()).map(p => p.codename), BUILTIN_PERMISSIONS, 'nothing was created')
})

t.test('GET /permissions lists every permission by codename, the built-in ones included', async t => {
  const app = await build(t)
  const manager = await loginAs(app, { permissions: ['groups.manage'] })
  await makePermission(app, 'posts.add', 'Can add posts')
  const res = await call(app, manager.access, 'GET', '/api/admin/permissions')
  t.equal(res.statusCode, 200)
  const body = res.json() as Array<{ codename: string, description: string }>
  t.same(body.map(p => p.codename), [...BUILTIN_PERMISSIONS, 'posts.add'].sort())
  for (const permission of body) {
    t.same(Object.keys(permission).sort(), ['codename', 'description'], permission.codename)
    t.ok(permission.description.length > 0, `${permission.codename} is described`)
  }
  t.same(body.find(p => p.codename === 'posts.add'), { codename: 'posts.add', description: 'Can add posts' })
  const root = await loginAs(app, { superuser: true })
  t.equal((await call(app, root.access, 'GET', '/api/admin/permissions')).statusCode, 200, 'a superuser may list them too')
})

t.test('POST /permissions creates a permission; a superuser holds it at once', async t => {
  const app = await build(t)
  const manager = await loginAs(app, { permissions: ['groups.manage'] })
  const root = await loginAs(app, { superuser: true })
  const res = await call(app, manager.access, 'POST', '/api/admin/permissions', { codename: 'posts.add', description: 'Can add posts' })
  t.equal(res.statusCode, 201)
  t.same(res.json(), { codename: 'posts.add', description: 'Can add posts' })
  const listed = await call(app, manager.access, 'GET', '/api/admin/permissions')
  t.ok(listed.json().some((p: { codename: string }) => p.codename === 'posts.add'), 'listed')
  t.ok((await me(app, root.access)).json().permissions.includes('posts.add'), 'a superuser has every permission, new ones too')
  t.notOk((await me(app, manager.access)).json().permissions.includes('posts.add'), 'its creator does not hold it')

  const byRoot = await call(app, root.access, 'POST', '/api/admin/permissions', { codename: 'reports_v2.export_csv', description: 'x' })
  t.equal(byRoot.statusCode, 201, 'digits and underscores are fine')
})

t.test('POST /permissions with a codename that exists is 409 permission_exists', async t => {
  const app = await build(t)
  const manager = await loginAs(app, { permissions: ['groups.manage'] })
  await makePermission(app, 'posts.add', 'Can add posts')
  for (const codename of ['posts.add', 'users.view']) {
    const res = await call(app, manager.access, 'POST', '/api/admin/permissions', { codename, description: 'Overwritten?' })
    expectProblem(t, res, 409, 'permission_exists', codename)
    t.same(res.json().errors, [{ field: 'codename', message: 'already exists' }])
  }
  const kept = await app.repositories.authorization.listPermissions()
  t.equal(kept.find(p => p.codename === 'posts.add')?.description, 'Can add posts', 'the description was not overwritten')
})

t.test('POST /permissions with a malformed codename or body is 400 validation_failed', async t => {
  const app = await build(t)
  const manager = await loginAs(app, { permissions: ['groups.manage'] })
  const codenames = ['posts', 'Posts.add', 'posts.Add', 'posts.add.more', '1posts.add', 'posts.1add', 'posts.', '.add', 'posts add', 'posts-x.add', 'posts.add ', '', `a.${'b'.repeat(99)}`]
  for (const codename of codenames) {
    const res = await call(app, manager.access, 'POST', '/api/admin/permissions', { codename, description: 'x' })
    expectProblem(t, res, 400, 'validation_failed', JSON.stringify(codename).slice(0, 30))
    t.equal(res.json().errors[0].field, 'codename')
  }
  const bodies: Array<[Record<string, unknown>, string]> = [
    [{ codename: 'posts.add' }, 'description'],
    [{ codename: 'posts.add', description: '' }, 'description'],
    [{ codename: 'posts.add', description: 'x'.repeat(256) }, 'description'],
    [{ codename: 'posts.add', description: 'nul\u0000byte' }, 'description'],
    [{ codename: 'posts.add', description: 'two\nlines' }, 'description'],
    [{ codename: 'posts.add', description: 'x', grant_to: 'everyone' }, 'grant_to'],
    [{ description: 'x' }, 'codename']
  ]
  for (const [payload, field] of bodies) {
    const res = await call(app, manager.access, 'POST', '/api/admin/permissions', payload)
    expectProblem(t, res, 400, 'validation_failed', JSON.stringify(payload).slice(0, 60))
    t.equal(res.json().errors[0].field, field)
  }
  t.same((await app.repositories.authorization.listPermissions()).map(p => p.codename), BUILTIN_PERMISSIONS, 'nothing was created')
})
