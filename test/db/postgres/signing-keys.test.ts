// The PostgreSQL signing-keys repository: rotation's `unless`, retirement dates and deletion, and
// rotations by several instances at once making one key.
import t from 'tap'
import { postgresRepositories } from '../../../db/postgres/index.js'
import { advisoryLocks } from '../../../db/postgres/database.js'
import { postgresSigningKeyRepository } from '../../../db/postgres/signing-keys.js'
import type { SigningKeyRecord } from '../../../db/repositories.js'
import { rotateIfDue } from '../../../src/keys/rotation.js'
import { testConfig } from '../../helper.js'
import { freshDatabase, holdLock } from './fresh-database.js'
import { instances } from './instances.js'

const HOUR = 3_600_000
const later = (date: Date, ms: number) => new Date(date.getTime() + ms)

let counter = 0
function key (createdAt: Date, algorithm = 'ES256'): SigningKeyRecord {
  counter += 1
  return { kid: `kid-${counter}`, algorithm, privateKey: `private-${counter}`, publicJwk: `{"kid":"kid-${counter}"}`, createdAt, retiredAt: null }
}

t.test('rotate stores the key and schedules the live keys to retire; unless stops it; list is oldest first', async t => {
  const keys = postgresSigningKeyRepository(await freshDatabase(t))
  const now = new Date()
  t.same(await keys.list(), [])
  const first = key(now)
  t.same(await keys.rotate({ key: first, now, retireAt: now }), { rotated: true, retired: [] })
  t.same(await keys.list(), [first])

  const unless = { algorithm: 'ES256', liveSince: later(now, -HOUR) }
  t.same(await keys.rotate({ key: key(later(now, 1)), now: later(now, 1), retireAt: later(now, HOUR), unless }), { rotated: false, retired: [] },
    'a live key of the algorithm newer than liveSince: nothing happens')
  t.same(await keys.rotate({ key: key(later(now, 1)), now: later(now, 1), retireAt: later(now, HOUR), unless: { algorithm: 'RS256', liveSince: unless.liveSince } }).then(r => r.rotated), true,
    'a key of another algorithm does not count')
  const [, second] = await keys.list()
  t.same((await keys.list()).map(k => [k.kid, k.retiredAt]), [[first.kid, later(now, HOUR)], [second.kid, null]])

  const third = key(later(now, 2))
  t.same(await keys.rotate({ key: third, now: later(now, 2), retireAt: later(now, 2 * HOUR) }), { rotated: true, retired: [first.kid, second.kid].sort() })
  t.same((await keys.list()).map(k => [k.kid, k.retiredAt]), [[first.kid, later(now, HOUR)], [second.kid, later(now, 2 * HOUR)], [third.kid, null]],
    'a key already due to retire earlier keeps its date')

  t.same(await keys.rotate({ now: later(now, HOUR), retireAt: later(now, HOUR) }), { rotated: true, retired: [second.kid, third.kid].sort() },
    'no new key: the live ones retire; one retired at `now` is no longer live')
  t.same(await keys.rotate({ key: key(later(now, HOUR)), now: later(now, HOUR), retireAt: later(now, HOUR), unless }).then(r => r.rotated), true,
    'retired keys do not stop a rotation')

  t.equal(await keys.deleteRetiredBefore(later(now, HOUR - 1)), 0)
  t.equal(await keys.deleteRetiredBefore(later(now, HOUR)), 3, 'retired at or before')
  t.equal((await keys.list()).length, 1, 'the live key stays')
})

t.test('two instances rotating at once with the same unless: one key', async t => {
  const db = await freshDatabase(t)
  const repos = instances(t, db, 2).map(postgresSigningKeyRepository)
  const now = new Date()
  const unless = { algorithm: 'ES256', liveSince: later(now, -HOUR) }
  // Both queue behind the rotation lock, so both have started before either checks `unless`.
  const lock = await holdLock(db, `SELECT pg_advisory_xact_lock(${advisoryLocks.keyRotation})`)
  const pending = repos.map(repo => repo.rotate({ key: key(now), now, retireAt: later(now, 60_000), unless }))
  await lock.waiters(2)
  await lock.release()
  const results = await Promise.all(pending)
  t.same(results.map(r => r.rotated).sort(), [false, true], 'the second sees the first one\'s key')
  t.equal((await repos[0].list()).length, 1)
})

t.test('automatic rotation (rotateIfDue) on three instances at once: one key', async t => {
  const db = await freshDatabase(t)
  const config = testConfig({}, { JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: '' })
  const now = new Date()
  const handles = instances(t, db, 3)
  const created = await Promise.all(handles.map(handle => rotateIfDue({ config, repositories: postgresRepositories(handle), now: () => now }, 0, { immediate: true })))
  t.equal(created.filter(r => r !== undefined).length, 1, 'first start: one instance made the key')
  t.equal((await postgresSigningKeyRepository(db).list()).length, 1)

  const due = later(now, 2 * HOUR)
  const rotated = await Promise.all(handles.map(handle => rotateIfDue({ config, repositories: postgresRepositories(handle), now: () => due }, HOUR / 1000)))
  t.equal(rotated.filter(r => r !== undefined).length, 1, 'the key was due on every instance: one rotated')
  const stored = await postgresSigningKeyRepository(db).list()
  t.equal(stored.length, 2)
  t.equal(stored.filter(k => k.retiredAt === null).length, 1, 'one live key, the new one')
})
