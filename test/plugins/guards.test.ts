import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { appDatabaseUrl, buildAppFor, testConfig } from '../helper.js'
import { call, expectProblem, loginAs, makePermission } from '../admin-helper.js'

/** The app with routes behind each guard, added before ready() as a route plugin would. */
async function buildGuarded (t: Test): Promise<FastifyInstance> {
  const app = await buildAppFor(t, testConfig({ databaseUrl: await appDatabaseUrl(t) }))
  app.get('/guarded/staff', { onRequest: [app.authenticate, app.requireStaff] }, async () => ({ ok: true }))
  app.get('/guarded/one', { onRequest: [app.authenticate, app.requirePermission('posts.add')] }, async () => ({ ok: true }))
  app.get('/guarded/two', { onRequest: [app.authenticate, app.requirePermission('posts.add', 'posts.publish')] }, async () => ({ ok: true }))
  // A guard without authenticate in front: it must still refuse, not crash on the missing principal.
  app.get('/guarded/alone', { onRequest: [app.requirePermission('posts.add')] }, async () => ({ ok: true }))
  app.get('/guarded/staff-alone', { onRequest: [app.requireStaff] }, async () => ({ ok: true }))
  await app.ready()
  await makePermission(app, 'posts.add')
  await makePermission(app, 'posts.publish')
  return app
}

t.test('requirePermission: 401 without a token, 403 permission_denied without the permission, through with it', async t => {
  const app = await buildGuarded(t)
  const nobody = await loginAs(app)
  const holder = await loginAs(app, { permissions: ['posts.add'] })
  expectProblem(t, await call(app, undefined, 'GET', '/guarded/one'), 401, 'not_authenticated')
  const denied = await call(app, nobody.access, 'GET', '/guarded/one')
  expectProblem(t, denied, 403, 'permission_denied')
  t.match(denied.json(), { type: 'about:blank', title: 'Forbidden', status: 403, instance: '/guarded/one' })
  t.match(denied.json().detail, /missing: posts\.add/)
  const allowed = await call(app, holder.access, 'GET', '/guarded/one')
  t.equal(allowed.statusCode, 200)
  t.same(allowed.json(), { ok: true })
})

t.test('requirePermission with several codenames needs every one and names the missing ones', async t => {
  const app = await buildGuarded(t)
  const one = await loginAs(app, { permissions: ['posts.add'] })
  const both = await loginAs(app, { permissions: ['posts.add', 'posts.publish'] })
  const nobody = await loginAs(app)
  const partial = await call(app, one.access, 'GET', '/guarded/two')
  expectProblem(t, partial, 403, 'permission_denied', 'one of two')
  t.match(partial.json().detail, /missing: posts\.publish\)/)
  const none = await call(app, nobody.access, 'GET', '/guarded/two')
  t.match(none.json().detail, /missing: posts\.add, posts\.publish\)/)
  t.equal((await call(app, both.access, 'GET', '/guarded/two')).statusCode, 200)
})

t.test('requirePermission counts the permissions of the user\'s groups', async t => {
  const app = await buildGuarded(t)
  await app.repositories.authorization.createGroup({ id: 'g1', name: 'writers', permissions: ['posts.add'], createdAt: new Date() })
  const member = await loginAs(app, { groups: ['writers'] })
  t.equal((await call(app, member.access, 'GET', '/guarded/one')).statusCode, 200)
  expectProblem(t, await call(app, member.access, 'GET', '/guarded/two'), 403, 'permission_denied')
})

t.test('a superuser passes every permission guard; staff alone passes none', async t => {
  const app = await buildGuarded(t)
  const root = await loginAs(app, { superuser: true })
  const staff = await loginAs(app, { staff: true })
  for (const url of ['/guarded/one', '/guarded/two', '/guarded/staff']) {
    t.equal((await call(app, root.access, 'GET', url)).statusCode, 200, `superuser: ${url}`)
  }
  expectProblem(t, await call(app, staff.access, 'GET', '/guarded/one'), 403, 'permission_denied', 'is_staff is no permission')
})

t.test('requireStaff: 401 without a token, 403 for a plain user, through for staff and superusers', async t => {
  const app = await buildGuarded(t)
  const plain = await loginAs(app, { permissions: ['posts.add'] })
  const staff = await loginAs(app, { staff: true })
  expectProblem(t, await call(app, undefined, 'GET', '/guarded/staff'), 401, 'not_authenticated')
  const denied = await call(app, plain.access, 'GET', '/guarded/staff')
  expectProblem(t, denied, 403, 'permission_denied', 'a permission does not make staff')
  t.equal(denied.json().detail, 'You do not have permission to perform this action.')
  t.equal((await call(app, staff.access, 'GET', '/guarded/staff')).statusCode, 200)
})

t.test('the guards read the database, not the token: a change applies to a live token at once', async t => {
  const app = await buildGuarded(t)
  const user = await loginAs(app, { permissions: ['posts.add'], staff: true })
  t.equal((await call(app, user.access, 'GET', '/guarded/one')).statusCode, 200)
  t.equal((await call(app, user.access, 'GET', '/guarded/staff')).statusCode, 200)
  await app.repositories.authorization.setUserPermissions(user.id, [])
  await app.repositories.users.update(user.id, { isStaff: false })
  expectProblem(t, await call(app, user.access, 'GET', '/guarded/one'), 403, 'permission_denied', 'permission revoked')
  expectProblem(t, await call(app, user.access, 'GET', '/guarded/staff'), 403, 'permission_denied', 'staff removed')
  await app.repositories.users.update(user.id, { isSuperuser: true })
  t.equal((await call(app, user.access, 'GET', '/guarded/two')).statusCode, 200, 'made a superuser: the same token passes')
})

t.test('a guard without authenticate in front refuses with 401 instead of failing', async t => {
  const app = await buildGuarded(t)
  const root = await loginAs(app, { superuser: true })
  for (const url of ['/guarded/alone', '/guarded/staff-alone']) {
    expectProblem(t, await call(app, undefined, 'GET', url), 401, 'not_authenticated', `${url} without a token`)
    expectProblem(t, await call(app, root.access, 'GET', url), 401, 'not_authenticated', `${url}: no principal was loaded`)
  }
})
