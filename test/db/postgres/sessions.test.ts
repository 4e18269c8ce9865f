// The PostgreSQL sessions repository: login, the one-query authentication state, refresh-token
// rotation (sequentially as SQLite decides, and concurrently across instances: never two live
// successors), revocations with their feed events, pruning.
import t, { type Test } from 'tap'
import { and, asc, eq, isNull } from 'drizzle-orm'
import type { PgDb } from '../../../db/postgres/database.js'
import { postgresSessionRepository } from '../../../db/postgres/sessions.js'
import {
  groupPermissions, groups, permissions, refreshTokens, revocationEvents, sessions, socialAccounts, userGroups, userPermissions, users
} from '../../../db/postgres/schema.js'
import type { RotationOutcome, RotationRequest } from '../../../db/repositories.js'
import { freshDatabase, holdLock, insertUser } from './fresh-database.js'
import { instances } from './instances.js'

const MINUTE = 60_000
const DAY = 86_400_000
const later = (date: Date, ms: number) => new Date(date.getTime() + ms)

let counter = 0
/** A user with a logged-in session; the first refresh token's hash is `<session>-first`. */
async function login (db: PgDb, now: Date, fields: { userId?: string, ttlMs?: number } = {}) {
  counter += 1
  const userId = fields.userId ?? await insertUser(db)
  const id = `s${counter}`
  const session = await postgresSessionRepository(db).create({
    id,
    userId,
    createdAt: now,
    userAgent: 'agent',
    ip: '192.0.2.1',
    firstToken: { id: `${id}-t0`, tokenHash: `${id}-first`, expiresAt: later(now, fields.ttlMs ?? DAY) }
  })
  return { userId, session, tokenHash: `${id}-first` }
}

/** A rotation request for `tokenHash` with a successor of its own. */
function rotation (tokenHash: string, now: Date, graceMs = 10_000): RotationRequest {
  counter += 1
  return {
    tokenHash,
    now,
    graceMs,
    successor: { id: `t${counter}`, tokenHash: `hash-${counter}`, expiresAt: later(now, DAY), sealed: `sealed-${counter}` },
    ip: '198.51.100.7',
    userAgent: 'rotating agent'
  }
}

/** The tokens of a session nobody has rotated yet: its live chain heads. */
async function unrotated (db: PgDb, sessionId: string) {
  return db.select({ id: refreshTokens.id }).from(refreshTokens)
    .where(and(eq(refreshTokens.sessionId, sessionId), isNull(refreshTokens.rotatedAt)))
}

async function events (db: PgDb) {
  const rows = await db.select().from(revocationEvents).orderBy(asc(revocationEvents.seq))
  return rows.map(e => ({ sessionId: e.sessionId, subject: e.subject, notBefore: e.notBefore }))
}

t.test('create stores the session, its first token, the last login and an upgraded hash, in one transaction', async t => {
  const db = await freshDatabase(t)
  const repo = postgresSessionRepository(db)
  const userId = await insertUser(db, { passwordHash: 'old-hash' })
  const now = new Date()
  const session = await repo.create({
    id: 's',
    userId,
    createdAt: now,
    userAgent: 'ua',
    ip: '192.0.2.1',
    upgradedPasswordHash: 'new-hash',
    firstToken: { id: 't', tokenHash: 'h', expiresAt: later(now, DAY) }
  })
  t.same(session, { id: 's', userId, createdAt: now, lastUsedAt: now, expiresAt: later(now, DAY), revokedAt: null, userAgent: 'ua', ip: '192.0.2.1', amr: ['pwd'] })
  const [user] = await db.select().from(users).where(eq(users.id, userId))
  t.same(user.lastLogin, now)
  t.equal(user.passwordHash, 'new-hash')
  const found = await repo.findByTokenHash('h')
  t.same(found?.token, { id: 't', sessionId: 's', parentId: null, createdAt: now, expiresAt: later(now, DAY), rotatedAt: null })
  t.same(found?.session, session)
  t.equal(found?.user.id, userId)
  t.equal(await repo.findByTokenHash('unknown'), undefined)

  await t.rejects(repo.create({
    id: 's2',
    userId,
    createdAt: later(now, 1),
    userAgent: null,
    ip: null,
    upgradedPasswordHash: 'newer-hash',
    firstToken: { id: 't2', tokenHash: 'h', expiresAt: later(now, DAY) }
  }), 'a token hash already stored fails the login')
  const [unchanged] = await db.select().from(users).where(eq(users.id, userId))
  t.equal(unchanged.passwordHash, 'new-hash', 'and nothing of it was written')
  t.same(unchanged.lastLogin, now)
  t.same((await db.select().from(sessions)).map(s => s.id), ['s'])
})

t.test('findAuthState: session, user, groups, effective permissions (all of them for a superuser) and providers, sorted', async t => {
  const db = await freshDatabase(t)
  const repo = postgresSessionRepository(db)
  const now = new Date()
  await db.insert(permissions).values(['posts.edit', 'posts.add', 'zeta.z', 'alpha.a'].map(codename => ({ codename, description: codename, createdAt: now })))
  await db.insert(groups).values([{ id: 'g1', name: 'writers', createdAt: now }, { id: 'g2', name: 'editors', createdAt: now }, { id: 'g3', name: 'unused', createdAt: now }])
  await db.insert(groupPermissions).values([{ groupId: 'g1', codename: 'posts.add' }, { groupId: 'g2', codename: 'posts.edit' }, { groupId: 'g2', codename: 'posts.add' }])

  const { userId, session } = await login(db, now)
  await db.insert(userGroups).values([{ userId, groupId: 'g1' }, { userId, groupId: 'g2' }])
  await db.insert(userPermissions).values([{ userId, codename: 'zeta.z' }, { userId, codename: 'posts.add' }])
  await db.insert(socialAccounts).values([
    { id: 'sa1', provider: 'google', providerUserId: '1', userId, linkedAt: now },
    { id: 'sa2', provider: 'github', providerUserId: '2', userId, linkedAt: now }
  ])
  const [user] = await db.select().from(users).where(eq(users.id, userId))
  const state = await repo.findAuthState(session.id)
  t.same(state, {
    session: { id: session.id, revokedAt: null, expiresAt: session.expiresAt },
    user: {
      id: userId,
      email: user.email,
      username: user.username,
      isActive: true,
      isStaff: false,
      isSuperuser: false,
      isBanned: false,
      bannedUntil: null,
      emailVerified: false,
      dateJoined: user.dateJoined,
      lastLogin: now
    },
    authorization: { groups: ['editors', 'writers'], permissions: ['posts.add', 'posts.edit', 'zeta.z'] },
    providers: ['github', 'google']
  })

  const superuser = await insertUser(db, { isSuperuser: true, isStaff: true, bannedUntil: later(now, DAY), isBanned: true })
  const { session: superSession } = await login(db, now, { userId: superuser })
  await postgresSessionRepository(db).revoke(superuser, superSession.id, now, 'logout')
  const allCodenames = (await db.select({ codename: permissions.codename }).from(permissions)).map(p => p.codename).sort()
  const superState = await repo.findAuthState(superSession.id)
  t.same(superState?.authorization, { groups: [], permissions: allCodenames }, 'a superuser has every permission')
  t.ok(allCodenames.length >= 4)
  t.same(superState?.providers, [])
  t.same(superState?.session.revokedAt, now, 'a revoked session is still found, with its revocation')
  t.same(superState?.user.bannedUntil, later(now, DAY))
  t.equal(superState?.user.isBanned, true)
  t.equal(await repo.findAuthState('unknown'), undefined)
})

t.test('rotate, one call at a time, decides as SQLite does', async t => {
  const db = await freshDatabase(t)
  const repo = postgresSessionRepository(db)
  const now = new Date()
  const { session, tokenHash, userId } = await login(db, now)

  const first = rotation(tokenHash, later(now, 1000))
  const rotated = await repo.rotate(first)
  t.match(rotated, { kind: 'rotated', user: { id: userId } })
  t.same(rotated.kind === 'rotated' && rotated.session, {
    ...session, lastUsedAt: first.now, expiresAt: first.successor.expiresAt, ip: first.ip, userAgent: first.userAgent
  }, 'the session as the rotation left it')
  const [stored] = await db.select().from(sessions).where(eq(sessions.id, session.id))
  t.same(stored.lastUsedAt, first.now)
  t.equal(stored.userAgent, 'rotating agent')

  const replay = await repo.rotate(rotation(tokenHash, later(now, 5000)))
  t.same(replay.kind === 'replayed' && { sealed: replay.sealedSuccessor, expiresAt: replay.successorExpiresAt },
    { sealed: first.successor.sealed, expiresAt: first.successor.expiresAt }, 'a replay within the grace window gets the same successor')
  t.same(await unrotated(db, session.id), [{ id: first.successor.id }], 'and makes no new token')

  const second = rotation(first.successor.tokenHash, later(now, 6000))
  t.equal((await repo.rotate(second)).kind, 'rotated', 'the successor rotates')
  t.same(await repo.rotate(rotation(tokenHash, later(now, 7000))), { kind: 'reused', sessionId: session.id },
    'a replay after the successor moved on is reuse, even within the grace window')
  const [revoked] = await db.select().from(sessions).where(eq(sessions.id, session.id))
  t.same(revoked.revokedAt, later(now, 7000))
  t.equal(revoked.revokedReason, 'refresh_token_reuse')
  t.same(await events(db), [{ sessionId: session.id, subject: null, notBefore: later(now, 7000) }], 'the reuse is in the feed')
  t.same(await repo.rotate(rotation(second.successor.tokenHash, later(now, 8000))), { kind: 'invalid' }, 'the revoked session rotates no more')
  t.same(await repo.rotate(rotation('unknown', now)), { kind: 'invalid' })
})

t.test('rotate: outside the grace window, or with none, a replay is reuse; expired tokens and sessions are invalid', async t => {
  const db = await freshDatabase(t)
  const repo = postgresSessionRepository(db)
  const now = new Date()

  const late = await login(db, now)
  await repo.rotate(rotation(late.tokenHash, now))
  t.same(await repo.rotate(rotation(late.tokenHash, later(now, 10_001))), { kind: 'reused', sessionId: late.session.id }, 'past the grace window')

  const noGrace = await login(db, now)
  await repo.rotate(rotation(noGrace.tokenHash, now, 0))
  t.same(await repo.rotate(rotation(noGrace.tokenHash, now, 0)), { kind: 'reused', sessionId: noGrace.session.id }, 'a zero grace window means none')

  const expiring = await login(db, now, { ttlMs: MINUTE })
  t.same(await repo.rotate(rotation(expiring.tokenHash, later(now, MINUTE))), { kind: 'invalid' }, 'an expired token')
  t.same(await unrotated(db, expiring.session.id), [{ id: `${expiring.session.id}-t0` }], 'is left alone')
})

/** Rotations of one token by three instances, queued behind a lock on its row and let go together. */
async function rotateAtOnce (t: Test, db: PgDb, tokenHash: string, now: Date, graceMs: number) {
  const repos = instances(t, db, 3).map(postgresSessionRepository)
  const lock = await holdLock(db, `SELECT 1 FROM refresh_tokens WHERE token_hash = '${tokenHash}' FOR UPDATE`)
  const requests = repos.map((_, i) => rotation(tokenHash, later(now, i), graceMs))
  const pending = repos.map((repo, i) => repo.rotate(requests[i]))
  await lock.waiters(3)
  await lock.release()
  return { requests, results: await Promise.all(pending) }
}

const kinds = (results: RotationOutcome[]) => results.map(r => r.kind).sort()

t.test('one refresh token rotated by three instances at once: one rotation, the others replay its successor', async t => {
  const db = await freshDatabase(t)
  const now = new Date()
  const { session, tokenHash } = await login(db, now)
  const { requests, results } = await rotateAtOnce(t, db, tokenHash, now, 10_000)
  t.same(kinds(results), ['replayed', 'replayed', 'rotated'])
  const winner = requests[results.findIndex(r => r.kind === 'rotated')]
  for (const result of results) {
    if (result.kind === 'replayed') t.equal(result.sealedSuccessor, winner.successor.sealed, 'every replay gets the one successor')
  }
  t.same(await unrotated(db, session.id), [{ id: winner.successor.id }], 'one live successor, never two')
  t.equal((await db.select().from(refreshTokens).where(eq(refreshTokens.sessionId, session.id))).length, 2, 'no other token was stored')
  t.same(await events(db), [])
})

t.test('one refresh token rotated by three instances at once with no grace window: one rotation, one reuse, then invalid', async t => {
  const db = await freshDatabase(t)
  const now = new Date()
  const { session, tokenHash } = await login(db, now)
  const { results } = await rotateAtOnce(t, db, tokenHash, now, 0)
  t.same(kinds(results), ['invalid', 'reused', 'rotated'], 'the second revokes the session, the third finds it revoked')
  t.equal((await unrotated(db, session.id)).length, 1, 'never two successors')
  const [revoked] = await db.select().from(sessions).where(eq(sessions.id, session.id))
  t.equal(revoked.revokedReason, 'refresh_token_reuse')
  t.equal((await events(db)).length, 1, 'one feed event for the reuse')
})

t.test('unsynchronised races of one token over three instances: exactly one rotation each time', async t => {
  const db = await freshDatabase(t)
  const repos = instances(t, db, 3).map(postgresSessionRepository)
  for (let round = 0; round < 5; round++) {
    const now = new Date()
    const { session, tokenHash } = await login(db, now)
    const results = await Promise.all(repos.map((repo, i) => repo.rotate(rotation(tokenHash, later(now, i)))))
    t.equal(results.filter(r => r.kind === 'rotated').length, 1, `round ${round}: one rotation`)
    t.equal((await unrotated(db, session.id)).length, 1, `round ${round}: one live successor`)
  }
})

t.test('listLive, revoke and revokeAll, each revocation in the feed', async t => {
  const db = await freshDatabase(t)
  const repo = postgresSessionRepository(db)
  const now = new Date()
  const a = await login(db, now)
  const b = await login(db, later(now, 1), { userId: a.userId })
  const c = await login(db, later(now, 2), { userId: a.userId })
  const expired = await login(db, later(now, -DAY), { userId: a.userId, ttlMs: MINUTE })
  const other = await login(db, now)

  t.same((await repo.listLive(a.userId, later(now, 3))).map(s => s.id), [c.session.id, b.session.id, a.session.id], 'live ones, most recently used first')
  t.equal(await repo.revoke(other.userId, a.session.id, now, 'logout'), false, "another user's session")
  t.equal(await repo.revoke(a.userId, expired.session.id, now, 'logout'), false, 'an expired session')
  t.equal(await repo.revoke(a.userId, 'unknown', now, 'logout'), false)
  t.same(await events(db), [], 'nothing revoked, nothing recorded')

  t.equal(await repo.revoke(a.userId, a.session.id, now, 'logout'), true)
  t.equal(await repo.revoke(a.userId, a.session.id, now, 'logout'), false, 'once')
  t.same(await events(db), [{ sessionId: a.session.id, subject: null, notBefore: now }])

  const kept = later(now, 10)
  t.equal(await repo.revokeAll(a.userId, kept, 'password_changed', c.session.id), 2, 'b and the expired one; c stays')
  t.same((await repo.listLive(a.userId, later(now, 11))).map(s => s.id), [c.session.id])
  t.same((await events(db)).slice(1).sort((x, y) => String(x.sessionId).localeCompare(String(y.sessionId))),
    [b.session.id, expired.session.id].sort().map(sessionId => ({ sessionId, subject: null, notBefore: kept })), 'one event per revoked session')

  const all = later(now, 20)
  t.equal(await repo.revokeAll(a.userId, all, 'banned'), 1)
  t.same((await events(db)).at(-1), { sessionId: null, subject: a.userId, notBefore: all }, 'one event for the user covers every token')
  t.equal(await repo.revokeAll(a.userId, later(now, 30), 'banned'), 0, 'nothing left to revoke')
  t.same((await events(db)).at(-1), { sessionId: null, subject: a.userId, notBefore: later(now, 30) }, 'the user is still recorded, as SQLite does')
  t.same((await repo.listLive(other.userId, later(now, 31))).map(s => s.id), [other.session.id], "other users' sessions are untouched")
})

t.test('prune deletes expired tokens and sessions and long-revoked sessions, in batches', async t => {
  const db = await freshDatabase(t)
  const repo = postgresSessionRepository(db)
  const now = new Date()
  const live = await login(db, now)
  const expired1 = await login(db, later(now, -2 * DAY))
  const expired2 = await login(db, later(now, -2 * DAY))
  const revokedLongAgo = await login(db, now)
  const revokedJustNow = await login(db, now)
  await repo.revoke(revokedLongAgo.userId, revokedLongAgo.session.id, later(now, -2 * DAY), 'logout')
  await repo.revoke(revokedJustNow.userId, revokedJustNow.session.id, now, 'logout')
  await repo.rotate(rotation(live.tokenHash, now))

  const revokedBefore = later(now, -DAY)
  t.equal(await repo.prune(now, revokedBefore, 1), 2, 'a batch of one: one session (its token with it) and one token')
  let total = 2
  for (let pruned = await repo.prune(now, revokedBefore, 1); pruned > 0; pruned = await repo.prune(now, revokedBefore, 1)) total += pruned
  t.ok(total >= 3)
  t.same((await db.select({ id: sessions.id }).from(sessions).orderBy(asc(sessions.id))).map(s => s.id),
    [live.session.id, revokedJustNow.session.id].sort(), 'the live and the recently revoked sessions stay')
  t.same((await db.select().from(refreshTokens).where(eq(refreshTokens.sessionId, expired1.session.id))), [])
  t.same((await db.select().from(refreshTokens).where(eq(refreshTokens.sessionId, expired2.session.id))), [])
  t.equal((await db.select().from(refreshTokens).where(eq(refreshTokens.sessionId, live.session.id))).length, 2, 'a rotated token lives until it expires')
})
