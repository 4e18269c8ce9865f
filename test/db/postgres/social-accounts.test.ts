// The PostgreSQL social accounts repository: single-use states, the last-way-in rule under
// concurrency, and unique violations named by field.
import t from 'tap'
import { eq } from 'drizzle-orm'
import { users } from '../../../db/postgres/schema.js'
import { postgresSocialAccountRepository } from '../../../db/postgres/social-accounts.js'
import { UniqueViolation, type NewUser, type SocialAccountRecord } from '../../../db/repositories.js'
import { freshDatabase, holdLock, insertUser } from './fresh-database.js'

const MINUTE = 60_000
let counter = 0

function account (userId: string, provider: string, overrides: Partial<SocialAccountRecord> = {}): SocialAccountRecord {
  counter += 1
  return { id: `sa-${counter}`, provider, providerUserId: `${provider}-${counter}`, userId, email: null, linkedAt: new Date(), lastLoginAt: null, ...overrides }
}

function newUser (overrides: Partial<NewUser> = {}): NewUser {
  counter += 1
  return { id: `u-${counter}`, email: `social${counter}@example.com`, username: `Social${counter}`, passwordHash: null, dateJoined: new Date(), emailVerified: true, ...overrides }
}

function state (expiresAt: Date) {
  return { provider: 'google', codeVerifier: 'verifier', nonce: 'nonce', redirectTo: 'https://app.example/done', createdAt: new Date(), expiresAt }
}

t.test('two concurrent consumeState with one state: one gets it', async t => {
  const db = await freshDatabase(t)
  const repo = postgresSocialAccountRepository(db)
  const expiresAt = new Date(Date.now() + 10 * MINUTE)
  await repo.saveState('state-hash', state(expiresAt))

  const lock = await holdLock(db, 'SELECT 1 FROM social_login_states WHERE state_hash = \'state-hash\' FOR UPDATE')
  const now = new Date()
  const callbacks = [repo.consumeState('state-hash', now), repo.consumeState('state-hash', now)]
  await lock.waiters(2)
  await lock.release()
  const results = await Promise.all(callbacks)

  const won = results.filter(r => r !== undefined)
  t.equal(won.length, 1)
  t.same(won[0], { provider: 'google', codeVerifier: 'verifier', nonce: 'nonce', redirectTo: 'https://app.example/done', expiresAt })
  t.equal(await repo.consumeState('state-hash', now), undefined, 'and never again')
})

t.test('an expired state is deleted and not returned; pruneStates deletes expired ones only', async t => {
  const db = await freshDatabase(t)
  const repo = postgresSocialAccountRepository(db)
  const now = new Date()
  await repo.saveState('expired', state(now))
  t.equal(await repo.consumeState('expired', now), undefined)
  await repo.saveState('expired', state(now))
  t.pass('it was deleted: the same hash can be saved again')

  await repo.saveState('old-1', state(new Date(now.getTime() - 1)))
  await repo.saveState('live', state(new Date(now.getTime() + MINUTE)))
  t.equal(await repo.pruneStates(now, 1), 1)
  t.equal(await repo.pruneStates(now, 10), 1)
  t.equal(await repo.pruneStates(now, 10), 0)
  t.ok(await repo.consumeState('live', now))
})

t.test('two concurrent unlinks of a password-less user\'s two providers: one unlinked, one last_login_method', async t => {
  const db = await freshDatabase(t)
  const repo = postgresSocialAccountRepository(db)
  const userId = await insertUser(db)
  await repo.link(account(userId, 'google'))
  await repo.link(account(userId, 'github'))

  // Both start while the user's row is locked elsewhere, so both have begun before either decides.
  const lock = await holdLock(db, `SELECT 1 FROM users WHERE id = '${userId}' FOR UPDATE`)
  const unlinks = [repo.unlink(userId, 'google'), repo.unlink(userId, 'github')]
  await lock.waiters(2)
  await lock.release()
  const outcomes = await Promise.all(unlinks)

  t.same([...outcomes].sort(), ['last_login_method', 'unlinked'])
  t.equal((await repo.providersOf(userId)).length, 1, 'one way in is left')
})

t.test('concurrent unlinks racing freely never remove the last way in', async t => {
  const db = await freshDatabase(t)
  const repo = postgresSocialAccountRepository(db)
  for (let round = 0; round < 5; round++) {
    const userId = await insertUser(db)
    await repo.link(account(userId, 'google'))
    await repo.link(account(userId, 'github'))
    const outcomes = await Promise.all([repo.unlink(userId, 'google'), repo.unlink(userId, 'github')])
    t.same([...outcomes].sort(), ['last_login_method', 'unlinked'], `round ${round}`)
  }
})

t.test('unlink: a password is a way in, an unknown link or user is not_linked', async t => {
  const db = await freshDatabase(t)
  const repo = postgresSocialAccountRepository(db)
  const withPassword = await insertUser(db, { passwordHash: '$2a$04$hash' })
  await repo.link(account(withPassword, 'google'))
  t.equal(await repo.unlink(withPassword, 'github'), 'not_linked')
  t.equal(await repo.unlink(withPassword, 'google'), 'unlinked', 'the password stays')
  t.same(await repo.providersOf(withPassword), [])

  const socialOnly = await insertUser(db)
  await repo.link(account(socialOnly, 'google'))
  t.equal(await repo.unlink(socialOnly, 'google'), 'last_login_method')
  t.same(await repo.providersOf(socialOnly), ['google'])
  t.equal(await repo.unlink('nobody', 'google'), 'not_linked')
})

t.test('an unlink and a password removal at once cannot leave the account with no way in', async t => {
  const db = await freshDatabase(t)
  const repo = postgresSocialAccountRepository(db)
  const userId = await insertUser(db, { passwordHash: '$2a$04$hash' })
  await repo.link(account(userId, 'google'))

  // The password goes first and holds its row lock while the unlink starts: the unlink waits, then sees no password.
  const removal = await holdLock(db, `UPDATE users SET password_hash = NULL WHERE id = '${userId}'`)
  const unlink = repo.unlink(userId, 'google')
  await removal.waiters(1)
  await removal.release()
  t.equal(await unlink, 'last_login_method')
})

t.test('providersOf is sorted; find and recordLogin', async t => {
  const db = await freshDatabase(t)
  const repo = postgresSocialAccountRepository(db)
  const userId = await insertUser(db)
  const github = account(userId, 'github')
  await repo.link(github)
  await repo.link(account(userId, 'google'))
  await repo.link(account(userId, 'Apple'))
  t.same(await repo.providersOf(userId), ['Apple', 'github', 'google'], 'by code point, as SQLite sorts')

  t.same(await repo.find('github', github.providerUserId), github)
  t.equal(await repo.find('github', 'someone-else'), undefined)
  const at = new Date(Date.now() + MINUTE)
  await repo.recordLogin(github.id, at, 'new@example.com')
  t.same(await repo.find('github', github.providerUserId), { ...github, email: 'new@example.com', lastLoginAt: at })
})

t.test('link: a linked identity, or a second identity of one provider for one user, is UniqueViolation(provider)', async t => {
  const db = await freshDatabase(t)
  const repo = postgresSocialAccountRepository(db)
  const userId = await insertUser(db)
  const other = await insertUser(db)
  const linked = account(userId, 'google')
  await repo.link(linked)

  await t.rejects(repo.link(account(other, 'google', { providerUserId: linked.providerUserId })), new UniqueViolation('provider'), 'identity linked elsewhere')
  await t.rejects(repo.link(account(userId, 'google')), new UniqueViolation('provider'), 'provider already linked for the user')
  await t.rejects(repo.link(account(userId, 'github', { id: linked.id })), new UniqueViolation('provider'), 'same id')
  await t.rejects(repo.link(account('nobody', 'github')), { cause: { code: '23503' } }, 'an unknown user is a foreign key violation, not a unique one')
})

t.test('createUserWithLink: both or neither, violations named by field', async t => {
  const db = await freshDatabase(t)
  const repo = postgresSocialAccountRepository(db)
  const existing = newUser()
  const existingAccount = account(existing.id, 'google')
  await repo.createUserWithLink(existing, existingAccount)

  const created = newUser({ isStaff: true })
  const user = await repo.createUserWithLink(created, account(created.id, 'github'))
  t.same(user, {
    id: created.id,
    email: created.email,
    username: created.username,
    passwordHash: null,
    isActive: true,
    isStaff: true,
    isSuperuser: false,
    isBanned: false,
    banReason: null,
    bannedUntil: null,
    emailVerified: true,
    dateJoined: created.dateJoined,
    lastLogin: null,
    legacyId: null
  })
  t.same(await repo.providersOf(created.id), ['github'])

  const attempts: Array<[string, NewUser, SocialAccountRecord]> = []
  const takenEmail = newUser({ email: existing.email })
  attempts.push(['email', takenEmail, account(takenEmail.id, 'google')])
  const takenUsername = newUser({ username: existing.username.toUpperCase() })
  attempts.push(['username', takenUsername, account(takenUsername.id, 'google')])
  const takenIdentity = newUser()
  attempts.push(['provider', takenIdentity, account(takenIdentity.id, 'google', { providerUserId: existingAccount.providerUserId })])
  for (const [field, candidate, link] of attempts) {
    await t.rejects(repo.createUserWithLink(candidate, link), new UniqueViolation(field as UniqueViolation['field']), field)
    const rows = await db.select({ id: users.id }).from(users).where(eq(users.id, candidate.id))
    t.equal(rows.length, 0, `no user is left behind (${field})`)
  }
})
