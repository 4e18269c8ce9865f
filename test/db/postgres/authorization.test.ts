// The PostgreSQL authorization repository: effective permissions, replace semantics, sorting, and
// unique violations named by field.
import t from 'tap'
import { postgresAuthorizationRepository } from '../../../db/postgres/authorization.js'
import { UniqueViolation } from '../../../db/repositories.js'
import { freshDatabase, insertUser, type Teardown } from './fresh-database.js'

const BUILT_IN = ['audit.view', 'clients.manage', 'groups.manage', 'users.ban', 'users.change', 'users.delete', 'users.view', 'webhooks.manage']

async function setUp (t: Teardown) {
  const db = await freshDatabase(t)
  const repo = postgresAuthorizationRepository(db)
  const createdAt = new Date()
  for (const codename of ['posts.add', 'posts.edit', 'Posts.zap']) await repo.createPermission({ codename, description: `can ${codename}`, createdAt })
  return { db, repo, createdAt }
}

t.test('permissions: built-ins seeded, listed by code point, existingPermissions keeps the order asked', async t => {
  const { repo, createdAt } = await setUp(t)
  t.same((await repo.listPermissions()).map(p => p.codename), ['Posts.zap', ...BUILT_IN, 'posts.add', 'posts.edit'].sort())
  t.same((await repo.listPermissions()).find(p => p.codename === 'posts.add'), { codename: 'posts.add', description: 'can posts.add' })
  t.same(await repo.existingPermissions(['posts.edit', 'nope', 'users.ban', 'posts.edit']), ['posts.edit', 'users.ban', 'posts.edit'])
  t.same(await repo.existingPermissions([]), [])
  await t.rejects(repo.createPermission({ codename: 'posts.add', description: 'again', createdAt }), new UniqueViolation('codename'))
  await t.rejects(repo.createPermission({ codename: 'users.view', description: 'again', createdAt }), new UniqueViolation('codename'))
})

t.test('groups: created with their permissions, listed by name, found by id and names, renamed, deleted', async t => {
  const { repo, createdAt } = await setUp(t)
  t.same(await repo.createGroup({ id: 'g1', name: 'editors', permissions: ['posts.edit', 'posts.add', 'posts.edit'], createdAt }),
    { id: 'g1', name: 'editors', permissions: ['posts.add', 'posts.edit'] })
  await repo.createGroup({ id: 'g2', name: 'Admins', permissions: [], createdAt })
  await repo.createGroup({ id: 'g3', name: 'authors', permissions: ['posts.add'], createdAt })
  t.same((await repo.listGroups()).map(g => g.name), ['Admins', 'authors', 'editors'])
  t.same(await repo.findGroup('g1'), { id: 'g1', name: 'editors', permissions: ['posts.add', 'posts.edit'] })
  t.equal(await repo.findGroup('nope'), undefined)
  t.same((await repo.findGroupsByName(['editors', 'nope', 'Admins'])).map(g => g.id), ['g2', 'g1'])
  t.same(await repo.findGroupsByName([]), [])

  await t.rejects(repo.createGroup({ id: 'g4', name: 'editors', permissions: [], createdAt }), new UniqueViolation('name'))
  t.equal(await repo.findGroup('g4'), undefined, 'nothing left of the refused group')
  await t.rejects(repo.createGroup({ id: 'g5', name: 'broken', permissions: ['no.such'], createdAt }), { cause: { code: '23503' } })
  t.same(await repo.findGroupsByName(['broken']), [], 'both or neither')

  t.same(await repo.updateGroup('g1', { name: 'writers', permissions: ['posts.edit'] }), { id: 'g1', name: 'writers', permissions: ['posts.edit'] })
  t.same(await repo.updateGroup('g1', {}), { id: 'g1', name: 'writers', permissions: ['posts.edit'] })
  t.same(await repo.updateGroup('g1', { permissions: [] }), { id: 'g1', name: 'writers', permissions: [] })
  t.equal(await repo.updateGroup('nope', { name: 'x' }), undefined)
  await t.rejects(repo.updateGroup('g1', { name: 'authors' }), new UniqueViolation('name'))
  t.equal((await repo.findGroup('g1'))?.name, 'writers')

  t.equal(await repo.deleteGroup('g1'), true)
  t.equal(await repo.deleteGroup('g1'), false)
})

t.test('concurrent replacements of one group\'s permissions: the last one wins whole', async t => {
  const { repo, createdAt } = await setUp(t)
  await repo.createGroup({ id: 'g', name: 'g', permissions: [], createdAt })
  const sets = [['posts.add', 'posts.edit'], ['posts.edit', 'users.ban'], ['posts.add', 'users.ban'], ['posts.edit']]
  await Promise.all(sets.map(permissions => repo.updateGroup('g', { permissions })))
  const final = (await repo.findGroup('g'))?.permissions
  t.ok(sets.some(set => JSON.stringify([...set].sort()) === JSON.stringify(final)), `one of the sets, not a mix: ${final}`)
})

t.test('a user\'s effective permissions: own and its groups\', every one for a superuser; direct shows its own', async t => {
  const { db, repo, createdAt } = await setUp(t)
  const userId = await insertUser(db)
  const superuser = await insertUser(db, { isSuperuser: true })
  await repo.createGroup({ id: 'g1', name: 'editors', permissions: ['posts.edit', 'posts.add'], createdAt })
  await repo.createGroup({ id: 'g2', name: 'Banners', permissions: ['users.ban', 'posts.add'], createdAt })

  t.same(await repo.forUser({ id: userId, isSuperuser: false }), { groups: [], permissions: [] })
  await repo.setUserGroups(userId, ['g1', 'g2', 'g1'])
  await repo.setUserPermissions(userId, ['users.view', 'posts.add'])
  t.same(await repo.forUser({ id: userId, isSuperuser: false }), {
    groups: ['Banners', 'editors'],
    permissions: ['posts.add', 'posts.edit', 'users.ban', 'users.view']
  })
  const direct = await repo.direct(userId)
  t.same(direct, {
    groups: [{ id: 'g2', name: 'Banners', permissions: ['posts.add', 'users.ban'] }, { id: 'g1', name: 'editors', permissions: ['posts.add', 'posts.edit'] }],
    permissions: ['posts.add', 'users.view']
  })

  // Replace, not add.
  await repo.setUserGroups(userId, ['g1'])
  await repo.setUserPermissions(userId, [])
  t.same(await repo.forUser({ id: userId, isSuperuser: false }), { groups: ['editors'], permissions: ['posts.add', 'posts.edit'] })
  await repo.setUserGroups(userId, [])
  t.same(await repo.direct(userId), { groups: [], permissions: [] })

  const all = (await repo.listPermissions()).map(p => p.codename)
  t.same(await repo.forUser({ id: superuser, isSuperuser: true }), { groups: [], permissions: [...all].sort() })
  await t.rejects(repo.setUserGroups(userId, ['no-such-group']), { cause: { code: '23503' } })
  t.same(await repo.forUser({ id: 'nobody', isSuperuser: false }), { groups: [], permissions: [] })
})

t.test('concurrent replacements of a user\'s groups and permissions never fail or mix', async t => {
  const { db, repo, createdAt } = await setUp(t)
  const userId = await insertUser(db)
  for (const id of ['a', 'b', 'c']) await repo.createGroup({ id, name: id, permissions: [], createdAt })
  const groupSets = [['a', 'b'], ['b', 'c'], ['a', 'c'], ['a', 'b', 'c']]
  const permissionSets = [['posts.add', 'posts.edit'], ['posts.edit', 'users.ban'], ['posts.add']]
  await Promise.all([
    ...groupSets.map(set => repo.setUserGroups(userId, set)),
    ...permissionSets.map(set => repo.setUserPermissions(userId, set))
  ])
  const direct = await repo.direct(userId)
  const groups = direct.groups.map(g => g.id)
  t.ok(groupSets.some(set => JSON.stringify(set) === JSON.stringify(groups)), `one of the group sets: ${groups}`)
  t.ok(permissionSets.some(set => JSON.stringify(set) === JSON.stringify(direct.permissions)), `one of the permission sets: ${direct.permissions}`)
})
