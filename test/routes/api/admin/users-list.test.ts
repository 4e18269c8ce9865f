import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { build, newUser } from '../../../helper.js'
import { ADMIN_USER_FIELDS, call, expectProblem, loginAs, type Reply } from '../../../admin-helper.js'

interface AdminUserItem {
  id: string
  email: string
  username: string
  is_banned: boolean
  ban_reason: string | null
  banned_until: string | null
  [field: string]: unknown
}

/** `count` users straight in the repository (no password), one second apart, the last one newest, all older than any registered user. */
async function seedUsers (app: FastifyInstance, count: number, make: (i: number) => { email: string, username: string } = i => ({ email: `seed${i}@example.com`, username: `seed${i}` })) {
  const start = Date.now() - 3600_000
  for (let i = 0; i < count; i++) {
    await app.repositories.users.create({ id: randomUUID(), ...make(i), passwordHash: null, dateJoined: new Date(start + i * 1000) })
  }
}

function list (app: FastifyInstance, access: string, query = '') {
  return call(app, access, 'GET', `/api/admin/users${query}`)
}

async function page (app: FastifyInstance, access: string, query: string): Promise<{ items: AdminUserItem[], next_cursor: string | null }> {
  const res = await list(app, access, query)
  if (res.statusCode !== 200) throw new Error(`list failed: ${res.statusCode} ${res.body}`)
  return res.json()
}

function emailsOf (res: Reply): string[] {
  return (res.json().items as AdminUserItem[]).map(item => item.email).sort()
}

t.test('GET /users lists users newest first with the admin fields', async t => {
  const app = await build(t)
  const viewer = await loginAs(app, { permissions: ['users.view'] })
  await seedUsers(app, 2)
  const res = await list(app, viewer.access)
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.same(Object.keys(body).sort(), ['items', 'next_cursor'])
  t.equal(body.next_cursor, null, 'one page holds them all')
  t.same(body.items.map((u: AdminUserItem) => u.email), [viewer.email, 'seed1@example.com', 'seed0@example.com'], 'newest first')
  const self = body.items.find((u: AdminUserItem) => u.id === viewer.id)
  t.same(Object.keys(self).sort(), ADMIN_USER_FIELDS)
  t.match(self, { is_banned: false, ban_reason: null, banned_until: null, permissions: ['users.view'], groups: [] })
  t.notMatch(res.body, /password|\$2[aby]\$/, 'no password or hash')
})

t.test('GET /users pages with a cursor: the pages chain, nothing is repeated or missed, the last cursor is null', async t => {
  const app = await build(t)
  const viewer = await loginAs(app, { permissions: ['users.view'] })
  await seedUsers(app, 7)
  const everyone = (await page(app, viewer.access, '?limit=200')).items.map(u => u.id)
  t.equal(everyone.length, 8)

  const seen: string[] = []
  const sizes: number[] = []
  let cursor: string | null = null
  do {
    const query: string = cursor === null ? '?limit=3' : `?limit=3&cursor=${encodeURIComponent(cursor)}`
    const result = await page(app, viewer.access, query)
    sizes.push(result.items.length)
    seen.push(...result.items.map(u => u.id))
    cursor = result.next_cursor
  } while (cursor !== null && sizes.length < 10)
  t.same(sizes, [3, 3, 2], 'three pages')
  t.equal(new Set(seen).size, seen.length, 'no user twice')
  t.same(seen, everyone, 'every user, in the same order as one big page')
})

t.test('GET /users: a page that ends exactly at the last user has no next cursor', async t => {
  const app = await build(t)
  const viewer = await loginAs(app, { permissions: ['users.view'] })
  await seedUsers(app, 5)
  const first = await page(app, viewer.access, '?limit=3')
  t.type(first.next_cursor, 'string')
  const second = await page(app, viewer.access, `?limit=3&cursor=${first.next_cursor}`)
  t.equal(second.items.length, 3)
  t.equal(second.next_cursor, null, 'six users in two full pages: no empty third page')
})

t.test('GET /users defaults to 50 per page', async t => {
  const app = await build(t)
  const viewer = await loginAs(app, { permissions: ['users.view'] })
  await seedUsers(app, 51)
  const first = await page(app, viewer.access, '')
  t.equal(first.items.length, 50)
  t.type(first.next_cursor, 'string')
  const second = await page(app, viewer.access, `?cursor=${first.next_cursor}`)
  t.equal(second.items.length, 2)
  t.equal(second.next_cursor, null)
})

t.test('GET /users with a garbage cursor is 400 validation_failed', async t => {
  const app = await build(t)
  const viewer = await loginAs(app, { permissions: ['users.view'] })
  const cursors = [
    'garbage',
    '!!!',
    Buffer.from('nocolon').toString('base64url'),
    Buffer.from('abc:def').toString('base64url'),
    Buffer.from('123:').toString('base64url'),
    Buffer.from('99999999999999999999999:x').toString('base64url'),
    // A cursor of another list (the audit log's) is not one of this list.
    Buffer.from('audit:5').toString('base64url'),
    '',
    'x'.repeat(201)
  ]
  for (const cursor of cursors) {
    const res = await list(app, viewer.access, `?cursor=${encodeURIComponent(cursor)}`)
    expectProblem(t, res, 400, 'validation_failed', JSON.stringify(cursor.slice(0, 30)))
    t.equal(res.json().errors[0].field, 'cursor')
  }
})

t.test('GET /users with a limit that is not an integer from 1 to 200 is 400', async t => {
  const app = await build(t)
  const viewer = await loginAs(app, { permissions: ['users.view'] })
  for (const limit of ['0', '201', '-1', 'ten', '1.5', '1e2', '', ' 5', '0x10']) {
    const res = await list(app, viewer.access, `?limit=${encodeURIComponent(limit)}`)
    expectProblem(t, res, 400, 'validation_failed', `limit=${JSON.stringify(limit)}`)
    t.equal(res.json().errors[0].field, 'limit')
  }
  const twice = await list(app, viewer.access, '?limit=1&limit=2')
  expectProblem(t, twice, 400, 'validation_failed', 'limit given twice')
  t.equal((await list(app, viewer.access, '?limit=200')).statusCode, 200, '200 is allowed')
  t.equal((await page(app, viewer.access, '?limit=1')).items.length, 1, 'the limit applies')
  t.equal((await page(app, viewer.access, '?limit=007')).items.length, 1, 'leading zeros are still digits')
})

t.test('GET /users with an unknown, repeated or control-character parameter is 400 rather than an unfiltered list', async t => {
  const app = await build(t)
  const viewer = await loginAs(app, { permissions: ['users.view'] })
  const res = await list(app, viewer.access, '?search=ada')
  expectProblem(t, res, 400, 'validation_failed')
  t.same(res.json().errors, [{ field: 'search', message: 'is not an allowed field' }])
  for (const query of ['?q=%00', '?q=a%0Ab', '?q=a&q=b', '?q[x]=1', `?q=${'a'.repeat(255)}`]) {
    expectProblem(t, await list(app, viewer.access, query), 400, 'validation_failed', query.slice(0, 20))
  }
})

t.test('GET /users?q= matches a substring of the email or the username, case-insensitively', async t => {
  const app = await build(t)
  const viewer = await loginAs(app, { permissions: ['users.view'] }, newUser({ email: 'viewer@example.com', username: 'viewer' }))
  await seedUsers(app, 4, i => [
    { email: 'ada@lovelace.org', username: 'countess' },
    { email: 'grace@navy.mil', username: 'AmazingGrace' },
    { email: 'alan@bletchley.uk', username: 'turing' },
    { email: 'edsger@example.com', username: 'dijkstra' }
  ][i])
  t.same(emailsOf(await list(app, viewer.access, '?q=lovelace')), ['ada@lovelace.org'], 'by email')
  t.same(emailsOf(await list(app, viewer.access, '?q=TURING')), ['alan@bletchley.uk'], 'by username, any case')
  t.same(emailsOf(await list(app, viewer.access, '?q=grace')), ['grace@navy.mil'], 'email and username both match: listed once')
  t.same(emailsOf(await list(app, viewer.access, '?q=example.com')), ['edsger@example.com', 'viewer@example.com'])
  t.same(emailsOf(await list(app, viewer.access, '?q=nobody-here')), [])
  t.equal((await page(app, viewer.access, '?q=')).items.length, 5, 'an empty q lists everyone')
  const paged = await page(app, viewer.access, '?q=a&limit=2')
  t.equal(paged.items.length, 2)
  const rest = await page(app, viewer.access, `?q=a&limit=2&cursor=${paged.next_cursor}`)
  t.ok([...paged.items, ...rest.items].every(u => /a/i.test(u.email) || /a/i.test(u.username)), 'the cursor keeps the filter')
})

t.test('GET /users?q= finds non-ASCII usernames in any case', async t => {
  const app = await build(t)
  const viewer = await loginAs(app, { permissions: ['users.view'] }, newUser({ email: 'viewer@example.com', username: 'viewer' }))
  await seedUsers(app, 2, i => [
    { email: 'unal@example.com', username: 'Ünal' },
    { email: 'sofia@example.com', username: 'ΣΟΦΙΑ' }
  ][i])
  for (const q of ['Ünal', 'ünal', 'ÜNAL', 'nal']) t.same(emailsOf(await list(app, viewer.access, `?q=${encodeURIComponent(q)}`)), ['unal@example.com'], q)
  for (const q of ['ΣΟΦΙΑ', 'σοφια', 'Σοφ']) t.same(emailsOf(await list(app, viewer.access, `?q=${encodeURIComponent(q)}`)), ['sofia@example.com'], q)
})

t.test('GET /users?q= takes % and _ literally', async t => {
  const app = await build(t)
  const viewer = await loginAs(app, { permissions: ['users.view'] }, newUser({ email: 'viewer@example.com', username: 'viewer' }))
  await seedUsers(app, 4, i => [
    { email: 'a%b@example.com', username: 'percent' },
    { email: 'a_b@example.com', username: 'underscore' },
    { email: 'axb@example.com', username: 'plain' },
    { email: 'snake@example.com', username: 'snake_case' }
  ][i])
  const search = async (q: string) => emailsOf(await list(app, viewer.access, `?q=${encodeURIComponent(q)}`))
  t.same(await search('a%b'), ['a%b@example.com'], '% is not a wildcard')
  t.same(await search('a_b'), ['a_b@example.com'], '_ is not a wildcard')
  t.same(await search('%'), ['a%b@example.com'])
  t.same(await search('_'), ['a_b@example.com', 'snake@example.com'], 'in the email or the username')
  t.same(await search('e_c'), ['snake@example.com'])
  t.same(await search('\\'), [], 'a backslash is literal too, not an escape of what follows')
  t.same(await search('a\\%b'), [])
})
