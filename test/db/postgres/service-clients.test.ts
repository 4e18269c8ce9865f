// The PostgreSQL service clients repository: delete feeds the revocation feed, touch writes once per
// interval, token revocation is idempotent.
import t from 'tap'
import { revocationEvents, serviceClients } from '../../../db/postgres/schema.js'
import { postgresRevocationRepository } from '../../../db/postgres/revocations.js'
import { postgresServiceClientRepository } from '../../../db/postgres/service-clients.js'
import { freshDatabase } from './fresh-database.js'

const MINUTE = 60_000

function client (id: string, createdAt = new Date(), scopes = ['orders.read', 'orders.write']) {
  return { id, name: `client ${id}`, scopes, secretHash: `hash-${id}`, createdAt, lastUsedAt: null }
}

t.test('create, list oldest first, findWithSecret', async t => {
  const db = await freshDatabase(t)
  const repo = postgresServiceClientRepository(db)
  const now = new Date()
  t.same(await repo.create(client('b', now)), { id: 'b', name: 'client b', scopes: ['orders.read', 'orders.write'], createdAt: now, lastUsedAt: null })
  await repo.create(client('a', now, []))
  await repo.create(client('c', new Date(now.getTime() - 1)))
  t.same((await repo.list()).map(c => c.id), ['c', 'a', 'b'], 'by creation, then id')
  t.same((await repo.list())[1].scopes, [], 'no scopes')
  t.same(await repo.findWithSecret('b'), { id: 'b', name: 'client b', scopes: ['orders.read', 'orders.write'], createdAt: now, lastUsedAt: null, secretHash: 'hash-b' })
  t.equal(await repo.findWithSecret('nope'), undefined)
})

t.test('delete records a revocation event for the client in the same transaction', async t => {
  const db = await freshDatabase(t)
  const repo = postgresServiceClientRepository(db)
  await repo.create(client('gone'))
  const now = new Date()
  t.equal(await repo.delete('gone', now), true)
  t.equal(await repo.delete('gone', now), false, 'a second delete finds nothing')
  t.same(await db.select().from(serviceClients), [])
  const events = await db.select().from(revocationEvents)
  t.same(events.map(e => ({ sessionId: e.sessionId, subject: e.subject, notBefore: e.notBefore, createdAt: e.createdAt })),
    [{ sessionId: null, subject: 'gone', notBefore: now, createdAt: now }], 'one event, for the deleted client only')
})

t.test('concurrent deletes of one client: one deletes it, one event', async t => {
  const db = await freshDatabase(t)
  const repo = postgresServiceClientRepository(db)
  await repo.create(client('raced'))
  const results = await Promise.all(Array.from({ length: 5 }, () => repo.delete('raced', new Date())))
  t.equal(results.filter(Boolean).length, 1)
  t.equal((await db.select().from(revocationEvents)).length, 1)
})

t.test('touch sets lastUsedAt at most once per interval', async t => {
  const db = await freshDatabase(t)
  const repo = postgresServiceClientRepository(db)
  await repo.create(client('used'))
  const first = new Date()
  await repo.touch('used', first, MINUTE)
  t.same((await repo.findWithSecret('used'))?.lastUsedAt, first, 'the first use is recorded')
  await repo.touch('used', new Date(first.getTime() + MINUTE - 1), MINUTE)
  t.same((await repo.findWithSecret('used'))?.lastUsedAt, first, 'not again within the interval')
  const later = new Date(first.getTime() + MINUTE)
  await repo.touch('used', later, MINUTE)
  t.same((await repo.findWithSecret('used'))?.lastUsedAt, later, 'again once the interval has passed')
  await repo.touch('nobody', later, MINUTE)
  t.pass('touching an unknown client does nothing')
})

t.test('revokeToken is idempotent and in the feed once; isTokenRevoked; pruneRevokedTokens deletes expired entries', async t => {
  const db = await freshDatabase(t)
  const repo = postgresServiceClientRepository(db)
  const now = new Date()
  const token = { jti: 'jti-1', clientId: 'c', expiresAt: new Date(now.getTime() + MINUTE) }
  await Promise.all([repo.revokeToken(token, now), repo.revokeToken(token, now)])
  await repo.revokeToken(token, now)
  t.equal(await repo.isTokenRevoked('jti-1'), true)
  t.equal(await repo.isTokenRevoked('jti-2'), false)
  const events = await postgresRevocationRepository(db).list({ limit: 10 })
  t.same(events.map(e => [e.jti, e.sessionId, e.subject, e.notBefore]), [['jti-1', null, null, now]], 'one feed event, however often it is revoked')

  await repo.revokeToken({ jti: 'old-1', clientId: 'c', expiresAt: new Date(now.getTime() - 2) }, now)
  await repo.revokeToken({ jti: 'old-2', clientId: 'c', expiresAt: new Date(now.getTime() - 1) }, now)
  await repo.revokeToken({ jti: 'edge', clientId: 'c', expiresAt: now }, now)
  t.equal(await repo.pruneRevokedTokens(now, 1), 1)
  t.equal(await repo.pruneRevokedTokens(now, 10), 1)
  t.equal(await repo.pruneRevokedTokens(now, 10), 0)
  t.equal(await repo.isTokenRevoked('edge'), true, 'a token expiring at now is kept until after')
  t.equal(await repo.isTokenRevoked('jti-1'), true)
})
