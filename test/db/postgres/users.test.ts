// The PostgreSQL users repository: unique violations by field (under concurrency too), the admin
// list's matching and cursor, delete with its cascade and its feed event.
import t from 'tap'
import { eq } from 'drizzle-orm'
import { UniqueViolation, type NewUser } from '../../../db/repositories.js'
import { postgresUserRepository } from '../../../db/postgres/users.js'
import { postgresSessionRepository } from '../../../db/postgres/sessions.js'
import { refreshTokens, revocationEvents, sessions } from '../../../db/postgres/schema.js'
import { freshDatabase, holdLock } from './fresh-database.js'
import { instances, outcomes } from './instances.js'

let counter = 0
function newUser (fields: Partial<NewUser> = {}): NewUser {
  counter += 1
  return { id: `u${counter}`, email: `user${counter}@example.com`, username: `User${counter}`, passwordHash: 'hash', dateJoined: new Date(), ...fields }
}

t.test('create returns the record with defaults; look-ups by id, email and username (case-insensitive)', async t => {
  const users = postgresUserRepository(await freshDatabase(t))
  const input = newUser({ username: 'Ünal' })
  const created = await users.create(input)
  t.same(created, {
    id: input.id,
    email: input.email,
    username: 'Ünal',
    passwordHash: 'hash',
    isActive: true,
    isStaff: false,
    isSuperuser: false,
    isBanned: false,
    banReason: null,
    bannedUntil: null,
    emailVerified: false,
    dateJoined: input.dateJoined,
    lastLogin: null,
    legacyId: null
  })
  t.same(await users.findById(input.id), created)
  t.same(await users.findByEmail(input.email), created)
  t.same(await users.findByUsername('üNAL'), created, 'usernames are found through their folded key')
  t.equal(await users.findById('nope'), undefined)
  t.equal(await users.findByEmail('nope@example.com'), undefined)
  t.equal(await users.findByUsername('nope'), undefined)
})

t.test('a taken email or username is a UniqueViolation naming the field, on create and on update', async t => {
  const users = postgresUserRepository(await freshDatabase(t))
  const first = await users.create(newUser({ email: 'ada@example.com', username: 'ada' }))
  const second = await users.create(newUser())
  await t.rejects(users.create(newUser({ email: 'ada@example.com' })), new UniqueViolation('email'))
  await t.rejects(users.create(newUser({ username: 'ADA' })), new UniqueViolation('username'), 'usernames are unique case-insensitively')
  await t.rejects(users.update(second.id, { email: 'ada@example.com' }), new UniqueViolation('email'))
  await t.rejects(users.update(second.id, { username: 'Ada' }), new UniqueViolation('username'))
  const renamed = await users.update(first.id, { username: 'Ada', isStaff: true, bannedUntil: new Date(0) })
  t.equal(renamed?.username, 'Ada', 'a user may change the case of its own username')
  t.equal(renamed?.isStaff, true)
  t.same(renamed?.bannedUntil, new Date(0))
  t.same(await users.update(first.id, {}), renamed, 'an empty patch returns the user')
  t.equal(await users.update('nope', { isStaff: true }), undefined)
})

t.test('20 concurrent registrations of one email over three instances: one is stored, 19 are UniqueViolation(email)', async t => {
  const db = await freshDatabase(t)
  const repos = instances(t, db, 3).map(postgresUserRepository)
  // The inserts queue behind a table lock and are let go together: they really overlap.
  const lock = await holdLock(db, 'LOCK TABLE users IN SHARE MODE')
  const attempts = Array.from({ length: 20 }, (_, i) => repos[i % 3].create(newUser({ email: 'same@example.com' })))
  await lock.waiters(20)
  await lock.release()
  const results = await outcomes(attempts)
  const stored = results.filter(r => !(r instanceof Error))
  const refused = results.filter(r => r instanceof Error)
  t.equal(stored.length, 1, 'one registration succeeds')
  t.equal(refused.length, 19)
  t.ok(refused.every(err => err instanceof UniqueViolation && err.field === 'email'), 'every other one is a UniqueViolation on email, never another error')
  t.equal((await repos[0].list({ query: 'same@', limit: 50 })).length, 1)
})

t.test('20 concurrent registrations of one username (in different cases): one stored, the rest UniqueViolation(username)', async t => {
  const db = await freshDatabase(t)
  const repos = instances(t, db, 3).map(postgresUserRepository)
  const results = await outcomes(Array.from({ length: 20 }, (_, i) => repos[i % 3].create(newUser({ username: i % 2 === 0 ? 'grace' : 'GRACE' }))))
  t.equal(results.filter(r => !(r instanceof Error)).length, 1)
  t.ok(results.filter(r => r instanceof Error).every(err => err instanceof UniqueViolation && err.field === 'username'))
})

t.test('list: newest first, a substring of email or username, case-insensitive, wildcards taken literally', async t => {
  const users = postgresUserRepository(await freshDatabase(t))
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute))
  await users.create(newUser({ id: 'a', email: 'a_b@example.com', username: 'plain1', dateJoined: at(1) }))
  await users.create(newUser({ id: 'b', email: 'axb@example.com', username: 'plain2', dateJoined: at(2) }))
  await users.create(newUser({ id: 'c', email: 'c@example.com', username: '100%Real', dateJoined: at(3) }))
  await users.create(newUser({ id: 'd', email: 'd@example.com', username: 'back\\slash', dateJoined: at(4) }))
  await users.create(newUser({ id: 'e', email: 'e@example.com', username: 'Ünal', dateJoined: at(5) }))
  const ids = async (query?: string) => (await users.list({ query, limit: 50 })).map(u => u.id)
  t.same(await ids(), ['e', 'd', 'c', 'b', 'a'], 'newest first')
  t.same(await ids(''), ['e', 'd', 'c', 'b', 'a'], 'an empty query matches everyone')
  t.same(await ids('a_b'), ['a'], '_ is not a wildcard')
  t.same(await ids('A_B@'), ['a'], 'emails match case-insensitively')
  t.same(await ids('0%r'), ['c'], '% is not a wildcard; usernames match case-insensitively')
  t.same(await ids('%'), ['c'])
  t.same(await ids('k\\s'), ['d'], 'a backslash is a backslash')
  t.same(await ids('\\'), ['d'])
  t.same(await ids('ünAL'), ['e'], 'non-ASCII usernames fold too')
  t.same(await ids('plain'), ['b', 'a'])
  t.same(await ids('nobody'), [])
})

t.test('list pages by (date joined, id) with the cursor, ties included', async t => {
  const users = postgresUserRepository(await freshDatabase(t))
  const same = new Date(Date.UTC(2026, 0, 1))
  for (const id of ['a', 'b', 'c', 'd']) await users.create(newUser({ id, dateJoined: same }))
  await users.create(newUser({ id: 'old', dateJoined: new Date(same.getTime() - 1) }))
  await users.create(newUser({ id: 'new', dateJoined: new Date(same.getTime() + 1) }))
  const pages: string[][] = []
  let after: { dateJoined: Date, id: string } | undefined
  for (;;) {
    const page = await users.list({ limit: 4, after })
    if (page.length === 0) break
    pages.push(page.map(u => u.id))
    const last = page[page.length - 1]
    after = { dateJoined: last.dateJoined, id: last.id }
  }
  t.same(pages, [['new', 'd', 'c', 'b'], ['a', 'old']])
})

t.test('delete takes sessions and tokens with the user and records the feed event in the same transaction', async t => {
  const db = await freshDatabase(t)
  const users = postgresUserRepository(db)
  const user = await users.create(newUser())
  const now = new Date()
  await postgresSessionRepository(db).create({
    id: 's1',
    userId: user.id,
    createdAt: now,
    userAgent: null,
    ip: null,
    firstToken: { id: 't1', tokenHash: 'h1', expiresAt: new Date(now.getTime() + 60_000) }
  })
  t.equal(await users.delete(user.id, now), true)
  t.equal(await users.findById(user.id), undefined)
  t.same(await db.select().from(sessions).where(eq(sessions.userId, user.id)), [], 'its sessions went with it')
  t.same(await db.select().from(refreshTokens), [], 'and their tokens')
  const events = await db.select().from(revocationEvents)
  t.same(events.map(e => ({ subject: e.subject, sessionId: e.sessionId, notBefore: e.notBefore })), [{ subject: user.id, sessionId: null, notBefore: now }])
  t.equal(await users.delete(user.id, now), false, 'a second delete finds nothing')
  t.equal((await db.select().from(revocationEvents)).length, 1, 'and records nothing')
})
