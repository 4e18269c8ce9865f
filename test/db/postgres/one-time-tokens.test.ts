// The PostgreSQL one-time tokens repository: single use under concurrency, newer tokens retire older ones.
import t from 'tap'
import { eq } from 'drizzle-orm'
import { postgresOneTimeTokenRepository } from '../../../db/postgres/one-time-tokens.js'
import { oneTimeTokens } from '../../../db/postgres/schema.js'
import type { NewOneTimeToken } from '../../../db/repositories.js'
import { freshDatabase, holdLock, insertUser } from './fresh-database.js'

const HOUR = 3_600_000

function token (userId: string, overrides: Partial<NewOneTimeToken> = {}): NewOneTimeToken {
  const now = new Date()
  const id = `ott-${Math.random().toString(36).slice(2)}`
  return { id, userId, purpose: 'reset_password', tokenHash: `hash-${id}`, email: 'ada@example.com', createdAt: now, expiresAt: new Date(now.getTime() + HOUR), ...overrides }
}

t.test('ten concurrent consumes of one token: exactly one gets it', async t => {
  const db = await freshDatabase(t)
  const repo = postgresOneTimeTokenRepository(db)
  const issued = token(await insertUser(db))
  await repo.issue(issued)

  // The ten queue up behind a lock on the row, and are let go together.
  const lock = await holdLock(db, `SELECT 1 FROM one_time_tokens WHERE id = '${issued.id}' FOR UPDATE`)
  const now = new Date()
  const consumes = Array.from({ length: 10 }, () => repo.consume(issued.tokenHash, 'reset_password', now))
  await lock.waiters(10)
  await lock.release()
  const results = await Promise.all(consumes)

  const won = results.filter(r => r !== undefined)
  t.equal(won.length, 1, 'one success')
  t.same(won[0], { id: issued.id, userId: issued.userId, purpose: 'reset_password', email: issued.email, expiresAt: issued.expiresAt })
  t.equal(await repo.findLive(issued.tokenHash, 'reset_password', now), undefined, 'used up')
})

t.test('concurrent consumes without a lock in the way: still one success', async t => {
  const db = await freshDatabase(t)
  const repo = postgresOneTimeTokenRepository(db)
  const issued = token(await insertUser(db))
  await repo.issue(issued)
  const results = await Promise.all(Array.from({ length: 10 }, () => repo.consume(issued.tokenHash, 'reset_password', new Date())))
  t.equal(results.filter(r => r !== undefined).length, 1)
})

t.test('a token of another purpose, an expired one or an unknown one is not consumed', async t => {
  const db = await freshDatabase(t)
  const repo = postgresOneTimeTokenRepository(db)
  const userId = await insertUser(db)
  const issued = token(userId, { purpose: 'verify_email' })
  await repo.issue(issued)
  const now = new Date()
  t.equal(await repo.findLive(issued.tokenHash, 'reset_password', now), undefined)
  t.equal(await repo.consume(issued.tokenHash, 'reset_password', now), undefined, 'wrong purpose')
  t.equal(await repo.consume(issued.tokenHash, 'verify_email', issued.expiresAt), undefined, 'expired at expiresAt')
  t.equal(await repo.consume('unknown', 'verify_email', now), undefined)
  t.ok(await repo.findLive(issued.tokenHash, 'verify_email', now), 'still live after the refusals')
  t.ok(await repo.consume(issued.tokenHash, 'verify_email', new Date(issued.expiresAt.getTime() - 1)), 'live until just before expiry')
  t.equal(await repo.consume(issued.tokenHash, 'verify_email', now), undefined, 'and then used')
})

t.test('issuing retires the older unused tokens of the same user and purpose, and nothing else', async t => {
  const db = await freshDatabase(t)
  const repo = postgresOneTimeTokenRepository(db)
  const userId = await insertUser(db)
  const now = new Date()
  const used = token(userId)
  await repo.issue(used)
  t.ok(await repo.consume(used.tokenHash, 'reset_password', now))
  const first = token(userId)
  const otherPurpose = token(userId, { purpose: 'verify_email' })
  const otherUser = token(await insertUser(db))
  for (const issued of [first, otherPurpose, otherUser]) await repo.issue(issued)

  const second = token(userId)
  await repo.issue(second)
  t.equal(await repo.findLive(first.tokenHash, 'reset_password', now), undefined, 'the older one is retired')
  t.ok(await repo.findLive(second.tokenHash, 'reset_password', now))
  t.ok(await repo.findLive(otherPurpose.tokenHash, 'verify_email', now), 'another purpose is kept')
  t.ok(await repo.findLive(otherUser.tokenHash, 'reset_password', now), 'another user is kept')
  const kept = await db.select({ id: oneTimeTokens.id }).from(oneTimeTokens).where(eq(oneTimeTokens.id, used.id))
  t.equal(kept.length, 1, 'a used token is not retired (the pruner deletes it)')
})

t.test('concurrent issues for one user leave exactly one live token', async t => {
  const db = await freshDatabase(t)
  const repo = postgresOneTimeTokenRepository(db)
  const userId = await insertUser(db)
  const tokens = Array.from({ length: 5 }, () => token(userId))
  await Promise.all(tokens.map(issued => repo.issue(issued)))
  const now = new Date()
  const live = await Promise.all(tokens.map(issued => repo.findLive(issued.tokenHash, 'reset_password', now)))
  t.equal(live.filter(r => r !== undefined).length, 1)
})

t.test('issuing for an unknown user fails on the foreign key', async t => {
  const db = await freshDatabase(t)
  await t.rejects(postgresOneTimeTokenRepository(db).issue(token('nobody')))
})

t.test('prune deletes used and expired tokens, at most limit at a time', async t => {
  const db = await freshDatabase(t)
  const repo = postgresOneTimeTokenRepository(db)
  const userId = await insertUser(db)
  const now = new Date()
  const expired = token(userId, { purpose: 'verify_email', expiresAt: new Date(now.getTime() - 1) })
  const used = token(userId)
  await repo.issue(expired)
  await repo.issue(used)
  await repo.consume(used.tokenHash, 'reset_password', now)
  const live = token(await insertUser(db))
  await repo.issue(live)

  t.equal(await repo.prune(now, 1), 1)
  t.equal(await repo.prune(now, 10), 1)
  t.equal(await repo.prune(now, 10), 0)
  t.ok(await repo.findLive(live.tokenHash, 'reset_password', now), 'the live token stays')
})
