// A login in flight against what lands while its password is being compared: a password change, a
// reset, a provider's claim, a ban, a deactivation. The compare is held open by the test (no
// sleeps): the change lands in between, deterministically, then the compare is let go.
import t from 'tap'
import bcrypt from 'bcryptjs'
import type { FastifyInstance } from 'fastify'
import type { PasswordHasher } from '../../src/passwords/hasher.js'
import { bcryptCost } from '../../src/passwords/hasher.js'
import { issueOneTimeToken } from '../../src/accounts/one-time-tokens.js'
import { bearer, build, loginUser, newUser, PASSWORD, registerUser } from '../helper.js'

const NEW_PASSWORD = 'battery staple horse'

/**
 * Holds the next password compare open after it has decided: `inCompare` resolves once it is held,
 * `release()` lets it answer. Later compares run as usual.
 */
function holdNextCompare (app: FastifyInstance) {
  const real: PasswordHasher = app.auth.hasher
  let release!: () => void
  const released = new Promise<void>(resolve => { release = resolve })
  let entered!: () => void
  const inCompare = new Promise<void>(resolve => { entered = resolve })
  let armed = true
  app.auth.hasher = {
    ...real,
    async verify (password, hash) {
      const matches = await real.verify(password, hash)
      if (armed) {
        armed = false
        entered()
        await released
      }
      return matches
    }
  }
  return { inCompare, release }
}

/**
 * Sends `request` (a login, a password change), holds its password compare open while `change`
 * lands, then lets the compare answer: the request's reply.
 */
async function whileComparing<T> (app: FastifyInstance, request: () => Promise<T>, change: () => Promise<unknown>): Promise<T> {
  const held = holdNextCompare(app)
  const inFlight = request()
  await held.inCompare
  try {
    await change()
  } finally {
    held.release()
  }
  return inFlight
}

function login (app: FastifyInstance, email: string, password: string) {
  return app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } })
}

function changePassword (app: FastifyInstance, access: string, current: string, next: string) {
  return app.inject({ method: 'POST', url: '/api/auth/password/change', headers: bearer(access), payload: { current_password: current, new_password: next } })
}

async function liveSessions (app: FastifyInstance, userId: string): Promise<number> {
  return (await app.repositories.sessions.listLive(userId, new Date())).length
}

t.test('a password change that lands during a login\'s compare of the old password ends that login', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const answer = await whileComparing(app, () => login(app, user.email, PASSWORD), async () => {
    t.equal((await changePassword(app, user.access, PASSWORD, NEW_PASSWORD)).statusCode, 204)
  })
  t.equal(answer.statusCode, 401, 'the old password no longer opens the account')
  t.equal(answer.json().code, 'invalid_credentials')
  t.equal(await liveSessions(app, user.id), 1, 'only the session the change was made from')
  t.equal((await login(app, user.email, NEW_PASSWORD)).statusCode, 200)
})

t.test('the cost upgrade of a login in flight never overwrites a password changed meanwhile', async t => {
  const app = await build(t, { bcryptCost: 5 })
  const user = await loginUser(app)
  // A hash below the configured cost: the next successful login rehashes the password it was given.
  await app.repositories.users.update(user.id, { passwordHash: bcrypt.hashSync(PASSWORD, 4) })
  const answer = await whileComparing(app, () => login(app, user.email, PASSWORD), async () => {
    t.equal((await changePassword(app, user.access, PASSWORD, NEW_PASSWORD)).statusCode, 204)
  })
  t.equal(answer.statusCode, 401)
  t.equal((await login(app, user.email, NEW_PASSWORD)).statusCode, 200, 'the new password still works')
  t.equal((await login(app, user.email, PASSWORD)).statusCode, 401, 'the old one does not')
  t.equal(bcryptCost((await app.repositories.users.findById(user.id))!.passwordHash!), 5)
})

t.test('with no change meanwhile, the cost upgrade is stored with the login', async t => {
  const app = await build(t, { bcryptCost: 5 })
  const user = await registerUser(app)
  await app.repositories.users.update(user.id, { passwordHash: bcrypt.hashSync(PASSWORD, 4) })
  t.equal((await login(app, user.email, PASSWORD)).statusCode, 200)
  t.equal(bcryptCost((await app.repositories.users.findById(user.id))!.passwordHash!), 5)
})

t.test('a password reset that lands during the compare ends the login', async t => {
  const app = await build(t)
  const user = await registerUser(app)
  const token = await issueOneTimeToken(app.auth, user, 'reset_password', 3600)
  const answer = await whileComparing(app, () => login(app, user.email, PASSWORD), async () => {
    const reset = await app.inject({ method: 'POST', url: '/api/auth/password/reset/confirm', payload: { token, new_password: NEW_PASSWORD } })
    t.equal(reset.statusCode, 204)
  })
  t.equal(answer.statusCode, 401)
  t.equal(await liveSessions(app, user.id), 0)
})

t.test('a provider\'s claim of the account (its password made unusable) during the compare ends the login', async t => {
  const app = await build(t)
  const user = await registerUser(app)
  const answer = await whileComparing(app, () => login(app, user.email, PASSWORD), async () => {
    // What claiming an unverified account does (src/social/login.ts), in its one transaction.
    await app.repositories.sessions.updateUserAndRevoke(user.id, { patch: { emailVerified: true, passwordHash: null }, now: new Date(), reason: 'claimed_by_provider' })
  })
  t.equal(answer.statusCode, 401)
  t.equal(await liveSessions(app, user.id), 0)
})

t.test('a ban that lands during the compare ends the login: 403 account_banned, no session', async t => {
  const app = await build(t)
  const user = await registerUser(app)
  const answer = await whileComparing(app, () => login(app, user.email, PASSWORD), async () => {
    await app.repositories.sessions.updateUserAndRevoke(user.id, { patch: { isBanned: true, banReason: 'spam', bannedUntil: null }, now: new Date(), reason: 'banned' })
  })
  t.equal(answer.statusCode, 403)
  t.equal(answer.json().code, 'account_banned')
  t.equal(await liveSessions(app, user.id), 0)
})

t.test('a new end to an expired ban, set during the compare, ends the login', async t => {
  const app = await build(t)
  const user = await registerUser(app)
  await app.repositories.users.update(user.id, { isBanned: true, bannedUntil: new Date(Date.now() - 60_000) })
  const answer = await whileComparing(app, () => login(app, user.email, PASSWORD), async () => {
    await app.repositories.users.update(user.id, { bannedUntil: new Date(Date.now() + 3_600_000) })
  })
  t.equal(answer.json().code, 'account_banned')
  t.equal(await liveSessions(app, user.id), 0)
})

t.test('a deactivation during the compare ends the login: 403 account_disabled', async t => {
  const app = await build(t)
  const user = await registerUser(app)
  const answer = await whileComparing(app, () => login(app, user.email, PASSWORD), async () => {
    await app.repositories.users.update(user.id, { isActive: false })
  })
  t.equal(answer.json().code, 'account_disabled')
  t.equal(await liveSessions(app, user.id), 0)
})

t.test('a ban lifted during the compare does not cost the login: it goes ahead against the row as it is', async t => {
  const app = await build(t)
  const user = await registerUser(app)
  await app.repositories.users.update(user.id, { isBanned: true, bannedUntil: new Date(Date.now() - 60_000) })
  const answer = await whileComparing(app, () => login(app, user.email, PASSWORD), async () => {
    await app.repositories.users.update(user.id, { isBanned: false, bannedUntil: null })
  })
  t.equal(answer.statusCode, 200)
  t.equal(await liveSessions(app, user.id), 1)
})

t.test('of two password changes racing, the one whose current password went stale is refused: no newer password is overwritten', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const refused = await whileComparing(app, () => changePassword(app, user.access, PASSWORD, 'first new password'), async () => {
    t.equal((await changePassword(app, user.access, PASSWORD, NEW_PASSWORD)).statusCode, 204, 'the second lands while the first compares')
  })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().code, 'invalid_credentials')
  t.equal((await login(app, user.email, NEW_PASSWORD)).statusCode, 200)
  t.equal((await login(app, user.email, 'first new password')).statusCode, 401)
})

t.test('a password change writes the password and ends the other sessions together; the feed names them', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const other = await login(app, user.email, PASSWORD)
  t.equal((await changePassword(app, user.access, PASSWORD, NEW_PASSWORD)).statusCode, 204)
  t.equal(await liveSessions(app, user.id), 1)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: other.json().refresh } })).statusCode, 401)
})

t.test('updateUserAndRevoke: compare-and-set on the password hash, all or nothing', async t => {
  const app = await build(t)
  const user = await loginUser(app, newUser())
  const { sessions, users } = app.repositories
  const stored = (await users.findById(user.id))!.passwordHash
  const stale = await sessions.updateUserAndRevoke(user.id, { patch: { passwordHash: 'x' }, expectedPasswordHash: 'not the stored hash', now: new Date(), reason: 'password_changed' })
  t.equal(stale, undefined, 'refused')
  t.equal((await users.findById(user.id))!.passwordHash, stored, 'nothing written')
  t.equal(await liveSessions(app, user.id), 1, 'nothing revoked')
  t.equal(await sessions.updateUserAndRevoke('no-such-user', { patch: { isBanned: true }, now: new Date(), reason: 'banned' }), undefined)
  const done = await sessions.updateUserAndRevoke(user.id, { patch: { passwordHash: null }, expectedPasswordHash: stored, now: new Date(), reason: 'password_set' })
  t.equal(done?.revoked, 1)
  t.equal(done?.user.passwordHash, null)
  t.equal(await liveSessions(app, user.id), 0)
})
