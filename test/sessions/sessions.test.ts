import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, manualClock, newUser, PASSWORD, registerUser } from '../helper.js'
import { hashOpaqueToken } from '../../src/sessions/opaque-tokens.js'
import { listSessions, login, logout, logoutAll, pruneSessions, refresh, revokeSession, type LoginResult } from '../../src/sessions/sessions.js'

const CLIENT = { ip: '192.0.2.1', userAgent: 'Domain/1.0' }
const MINUTE_MS = 60_000
const DAY_MS = 24 * 60 * MINUTE_MS

async function signedIn (app: FastifyInstance) {
  const user = await registerUser(app, newUser())
  const result = await login(app.auth, { email: user.email, password: PASSWORD }, CLIENT)
  if ('mfa_required' in result) throw new Error('no second factor was set up')
  return { ...user, ...result }
}

t.test('login returns a token pair, the user and the new session', async t => {
  const app = await build(t)
  const user = await registerUser(app)
  const result = await login(app.auth, { username: user.username.toUpperCase(), password: PASSWORD }, CLIENT)
  if ('mfa_required' in result) throw new Error('no second factor was set up')
  t.equal(result.token_type, 'Bearer')
  t.equal(result.expires_in, 300)
  t.type(result.access, 'string')
  t.type(result.refresh, 'string')
  t.equal(result.user.id, user.id)
  t.notOk('passwordHash' in result.user)
  const sessions = await listSessions(app.auth, user.id, result.sessionId)
  t.equal(sessions.length, 1)
  t.match(sessions[0], { id: result.sessionId, current: true, ip: '192.0.2.1', user_agent: 'Domain/1.0' })
  const stored = await app.repositories.sessions.findByTokenHash(hashOpaqueToken(result.refresh))
  t.equal(stored?.session.id, result.sessionId, 'the refresh token is stored by its hash')
  t.equal(stored?.token.parentId, null)
})

t.test('login refuses unknown accounts and wrong passwords alike', async t => {
  const app = await build(t)
  const user = await registerUser(app)
  await t.rejects(login(app.auth, { email: user.email, password: 'wrong password' }, CLIENT), { code: 'invalid_credentials', statusCode: 401 })
  await t.rejects(login(app.auth, { email: 'nobody@example.com', password: PASSWORD }, CLIENT), { code: 'invalid_credentials', statusCode: 401 })
})

t.test('login reveals a ban or a disabled account only after the right password', async t => {
  const app = await build(t)
  const banned = await registerUser(app)
  const disabled = await registerUser(app)
  await app.repositories.users.update(banned.id, { isBanned: true })
  await app.repositories.users.update(disabled.id, { isActive: false })
  await t.rejects(login(app.auth, { email: banned.email, password: PASSWORD }, CLIENT), { code: 'account_banned', statusCode: 403 })
  await t.rejects(login(app.auth, { email: disabled.email, password: PASSWORD }, CLIENT), { code: 'account_disabled', statusCode: 403 })
  await t.rejects(login(app.auth, { email: banned.email, password: 'wrong password' }, CLIENT), { code: 'invalid_credentials' })
  await t.rejects(login(app.auth, { email: disabled.email, password: 'wrong password' }, CLIENT), { code: 'invalid_credentials' })
  t.same(await listSessions(app.auth, banned.id, ''), [], 'no session was created')
})

t.test('refresh rotates into a new token of the same session and records the client', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now })
  const user = await signedIn(app)
  clock.advance(MINUTE_MS)
  const pair = await refresh(app.auth, user.refresh, { ip: '198.51.100.7', userAgent: 'Later/2.0' })
  t.not(pair.refresh, user.refresh)
  t.equal(pair.token_type, 'Bearer')
  const parent = await app.repositories.sessions.findByTokenHash(hashOpaqueToken(user.refresh))
  const child = await app.repositories.sessions.findByTokenHash(hashOpaqueToken(pair.refresh))
  t.equal(child?.session.id, user.sessionId)
  t.equal(child?.token.parentId, parent?.token.id, 'the successor records its parent')
  t.same(parent?.token.rotatedAt, clock.now(), 'the parent is marked rotated')
  t.equal(child?.token.rotatedAt, null)
  const [session] = await listSessions(app.auth, user.id, user.sessionId)
  t.match(session, { ip: '198.51.100.7', user_agent: 'Later/2.0', last_used_at: clock.now().toISOString() })
})

t.test('refresh within the grace window hands out the same successor; after it, the session is revoked', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now })
  const user = await signedIn(app)
  const first = await refresh(app.auth, user.refresh, CLIENT)
  clock.advance(10_000)
  const replay = await refresh(app.auth, user.refresh, CLIENT)
  t.equal(replay.refresh, first.refresh, 'at exactly the grace window the same successor comes back')
  clock.advance(1)
  await t.rejects(refresh(app.auth, user.refresh, CLIENT), { code: 'token_not_valid' })
  await t.rejects(refresh(app.auth, first.refresh, CLIENT), { code: 'token_not_valid' }, 'the successor died with the session')
  t.same(await listSessions(app.auth, user.id, user.sessionId), [])
})

t.test('a zero grace window treats any replay as reuse', async t => {
  const fixed = new Date()
  const app = await build(t, { refreshReuseGrace: 0 }, { now: () => fixed })
  const user = await signedIn(app)
  const first = await refresh(app.auth, user.refresh, CLIENT)
  await t.rejects(refresh(app.auth, user.refresh, CLIENT), { code: 'token_not_valid' })
  await t.rejects(refresh(app.auth, first.refresh, CLIENT), { code: 'token_not_valid' })
})

t.test('refresh of a disabled account fails and revokes its session for good', async t => {
  const app = await build(t)
  const user = await signedIn(app)
  await app.repositories.users.update(user.id, { isActive: false })
  await t.rejects(refresh(app.auth, user.refresh, CLIENT), { code: 'token_not_valid', statusCode: 401 })
  await app.repositories.users.update(user.id, { isActive: true })
  t.same(await listSessions(app.auth, user.id, user.sessionId), [], 'the session was revoked, not just refused')
  await t.rejects(refresh(app.auth, user.refresh, CLIENT), { code: 'token_not_valid' })
})

t.test('refresh refuses unknown and expired tokens', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now })
  const user = await signedIn(app)
  await t.rejects(refresh(app.auth, 'unknown', CLIENT), { code: 'token_not_valid' })
  clock.advance(7 * DAY_MS)
  await t.rejects(refresh(app.auth, user.refresh, CLIENT), { code: 'token_not_valid' }, 'expired at exactly seven days')
})

t.test('logout revokes the token\'s session and ignores unknown tokens', async t => {
  const app = await build(t)
  const user = await signedIn(app)
  const other = await login(app.auth, { email: user.email, password: PASSWORD }, CLIENT) as LoginResult
  await logout(app.auth, 'unknown')
  t.equal((await listSessions(app.auth, user.id, user.sessionId)).length, 2, 'an unknown token changes nothing')
  await logout(app.auth, user.refresh)
  t.same((await listSessions(app.auth, user.id, other.sessionId)).map(s => s.id), [other.sessionId])
  await logout(app.auth, user.refresh)
  await t.rejects(refresh(app.auth, user.refresh, CLIENT), { code: 'token_not_valid' })
})

t.test('logoutAll revokes every session of one user', async t => {
  const app = await build(t)
  const user = await signedIn(app)
  await login(app.auth, { email: user.email, password: PASSWORD }, CLIENT)
  const bystander = await signedIn(app)
  await logoutAll(app.auth, user.id)
  t.same(await listSessions(app.auth, user.id, user.sessionId), [])
  t.equal((await listSessions(app.auth, bystander.id, bystander.sessionId)).length, 1)
  await t.resolves(refresh(app.auth, bystander.refresh, CLIENT))
})

t.test('revokeSession revokes only the user\'s own live sessions', async t => {
  const app = await build(t)
  const user = await signedIn(app)
  const other = await signedIn(app)
  await t.rejects(revokeSession(app.auth, user.id, other.sessionId), { code: 'not_found', statusCode: 404 })
  await t.rejects(revokeSession(app.auth, user.id, 'no-such-session'), { code: 'not_found' })
  t.equal((await listSessions(app.auth, other.id, other.sessionId)).length, 1, 'the other user\'s session is live')
  await revokeSession(app.auth, user.id, user.sessionId)
  await t.rejects(revokeSession(app.auth, user.id, user.sessionId), { code: 'not_found' }, 'a revoked session is not found again')
})

t.test('pruneSessions keeps revoked sessions until their access tokens expired, and drops expired ones', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now })
  const loggedOut = await signedIn(app)
  const stale = await signedIn(app)
  await logout(app.auth, loggedOut.refresh)

  t.equal(await pruneSessions(app.auth, 100), 0, 'nothing is dead yet')
  t.ok(await app.repositories.sessions.findAuthState(loggedOut.sessionId), 'a just-revoked session is kept')

  clock.advance(2 * DAY_MS)
  const live = await signedIn(app)
  t.ok(await pruneSessions(app.auth, 100) >= 1, 'the revoked session is pruned once its access tokens expired')
  t.equal(await app.repositories.sessions.findAuthState(loggedOut.sessionId), undefined, 'the revoked session is gone')
  t.ok(await app.repositories.sessions.findAuthState(stale.sessionId), 'a live session is kept')

  clock.advance(5 * DAY_MS + 1000)
  t.ok(await pruneSessions(app.auth, 100) >= 1, 'the expired session is pruned')
  t.equal(await app.repositories.sessions.findAuthState(stale.sessionId), undefined, 'the expired session is gone')
  t.ok(await app.repositories.sessions.findAuthState(live.sessionId), 'the newer session is kept')
  await t.resolves(refresh(app.auth, live.refresh, CLIENT))
})
