// Group commit on SQLite: writes queued together share one transaction (one fsync), a failing one
// rolls back only itself, and a promise settles only once its transaction committed.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t, { type Test } from 'tap'
import { commitChannel, groupCommit } from '../../../db/sqlite/group-commit.js'
import { walSync, walSyncChannel } from '../../../db/sqlite/wal-sync.js'
import { openDatabase, sqliteRepositories } from '../../../db/sqlite/index.js'
import { build, loginUser, sqliteOnly, testDatabaseUrl } from '../../helper.js'
import { waitUntil } from '../../wait-until.js'

const DAY = 86_400_000

function tempFile (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-group-commit-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'p.db')
}

/** The sizes of the batches committed while the test runs. */
function committedBatches (t: Test): number[] {
  const batches: number[] = []
  const onCommit = (message: unknown) => { batches.push((message as { units: number }).units) }
  subscribe(commitChannel.name, onCommit)
  t.teardown(() => unsubscribe(commitChannel.name, onCommit))
  return batches
}

/** A raw connection with one table, and a second connection to read what the first committed. */
function rawPair (t: Test) {
  const path = tempFile(t)
  const writer = new Database(path)
  writer.pragma('journal_mode = WAL')
  writer.pragma('synchronous = FULL')
  writer.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT NOT NULL)')
  const reader = new Database(path, { readonly: true })
  t.teardown(() => { reader.close(); writer.close() })
  return { writer, reader, insert: writer.prepare('INSERT INTO items (id, label) VALUES (?, ?)') }
}

t.test('units queued together run in one transaction; each result arrives after COMMIT, visible to another connection', async t => {
  const { writer, reader, insert } = rawPair(t)
  const batches = committedBatches(t)
  const commits = groupCommit(writer)
  const seen: Array<{ inTransaction: boolean, count: number }> = []
  const results = await Promise.all([1, 2, 3, 4, 5].map(id => commits.run(() => insert.run(id, `item ${id}`).changes).then(changes => {
    // Read from another connection at the moment the caller is told: the write is already committed.
    seen.push({ inTransaction: writer.inTransaction, count: (reader.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n })
    return changes
  })))
  t.same(results, [1, 1, 1, 1, 1])
  t.same(batches, [5], 'one transaction for the five')
  t.same(seen, Array(5).fill({ inTransaction: false, count: 5 }), 'every promise settled after COMMIT')
})

/** How many of this process's file descriptors are open on `path` (Linux: /proc/self/fd). */
function descriptorsOf (path: string): number {
  return readdirSync('/proc/self/fd').filter(fd => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path
    } catch {
      return false
    }
  }).length
}

/** Commits and WAL syncs as they happen, and each caller's answer, in one ordered list. */
function eventLog (t: Test): string[] {
  const events: string[] = []
  const onCommit = (message: unknown) => { events.push(`commit ${(message as { units: number }).units}`) }
  const onSync = () => { events.push('wal synced') }
  subscribe(commitChannel.name, onCommit)
  subscribe(walSyncChannel.name, onSync)
  t.teardown(() => {
    unsubscribe(commitChannel.name, onCommit)
    unsubscribe(walSyncChannel.name, onSync)
  })
  return events
}

t.test('on a WAL file: the sync runs off the event loop after COMMIT, and every caller is answered only after it', async t => {
  const { writer, insert } = rawPair(t)
  const events = eventLog(t)
  const commits = groupCommit(writer)
  const first = Promise.all([1, 2, 3].map(id => commits.run(() => insert.run(id, 'a')).then(() => { events.push(`answered ${id}`) })))
  // Queued while the first batch's sync is under way: a batch of its own, answered after a later sync.
  await new Promise(resolve => setImmediate(resolve))
  t.same(events, ['commit 3'], 'committed, not yet answered: the sync is still running')
  t.equal(writer.pragma('synchronous', { simple: true }), 2, 'the connection is back to FULL for every other transaction')
  const second = commits.run(() => insert.run(4, 'b')).then(() => { events.push('answered 4') })
  await Promise.all([first, second])
  t.same(events, ['commit 3', 'commit 1', 'wal synced', 'answered 1', 'answered 2', 'answered 3', 'wal synced', 'answered 4'])
})

t.test('a transaction left open on the connection fails the batch (SQLite refuses to change the sync setting inside one): no crash', async t => {
  const { writer, reader, insert } = rawPair(t)
  const commits = groupCommit(writer)
  writer.exec('BEGIN')
  const outcomes = await Promise.allSettled([commits.run(() => insert.run(1, 'a'))])
  t.equal(outcomes[0].status, 'rejected')
  t.match((outcomes[0] as PromiseRejectedResult).reason, { message: /within a transaction/ })
  writer.exec('ROLLBACK')
  await commits.run(() => insert.run(2, 'b'))
  t.same(reader.prepare('SELECT id FROM items').all(), [{ id: 2 }], 'the next batch commits')
})

t.test('the WAL sync: callers that arrive during a sync share one more, never more than one runs or waits', async t => {
  const { writer, insert } = rawPair(t)
  insert.run(1, 'a')
  let syncs = 0
  const onSync = () => { syncs++ }
  subscribe(walSyncChannel.name, onSync)
  t.teardown(() => unsubscribe(walSyncChannel.name, onSync))
  const wal = walSync(writer.name, () => writer.open)
  await Promise.all(Array.from({ length: 20 }, () => wal.barrier()))
  t.equal(syncs, 2, 'the first caller\'s sync, and one more for the nineteen that came while it ran')
  await wal.barrier()
  t.equal(syncs, 3)
  // The WAL's file, held open across the syncs that follow one another, is closed once none waits:
  // only the connection's own descriptor is left.
  await waitUntil(() => descriptorsOf(writer.name + '-wal') === 1, 10_000, 'the sync\'s handle on the WAL to be closed', t)
  t.pass('no descriptor left behind')
})

t.test('a WAL that cannot be synced fails the callers; one gone with its closed connection needs no sync', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-wal-sync-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  await t.rejects(walSync(join(dir, 'missing.db'), () => true).barrier(), { code: 'ENOENT' }, 'an open connection without its WAL: an error, not a silent success')
  await t.resolves(walSync(join(dir, 'closed.db'), () => false).barrier(), 'closing the last connection checkpointed and removed it')
})

t.test('a commit whose WAL cannot be synced is not acknowledged: its callers fail with the error', async t => {
  const { writer, insert } = rawPair(t)
  insert.run(1, 'a')
  // The connection keeps writing to its WAL, but the file is gone from the directory: nothing this
  // process can sync under that name.
  rmSync(`${writer.name}-wal`)
  const commits = groupCommit(writer)
  const outcomes = await Promise.allSettled([commits.run(() => insert.run(2, 'b')), commits.run(() => insert.run(3, 'c'))])
  t.same(outcomes.map(o => o.status), ['rejected', 'rejected'])
  t.match((outcomes[0] as PromiseRejectedResult).reason, { code: 'ENOENT' })
  t.equal(writer.pragma('synchronous', { simple: true }), 2, 'the connection is back to FULL')
})

t.test('in memory, or set to sync less than FULL: answered at COMMIT, no WAL sync', async t => {
  const events = eventLog(t)
  for (const open of [() => new Database(':memory:'), () => {
    const db = new Database(tempFile(t))
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    return db
  }]) {
    const db = open()
    t.teardown(() => db.close())
    db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY)')
    const commits = groupCommit(db)
    await commits.run(() => db.prepare('INSERT INTO items (id) VALUES (1)').run())
    events.push('answered')
  }
  t.same(events, ['commit 1', 'answered', 'commit 1', 'answered'])
})

t.test('a failing unit rolls back only its own writes and rejects only its own promise', async t => {
  const { writer, reader, insert } = rawPair(t)
  const batches = committedBatches(t)
  const commits = groupCommit(writer)
  const outcomes = await Promise.allSettled([
    commits.run(() => insert.run(1, 'first')),
    commits.run(() => {
      insert.run(2, 'half-written')
      throw new Error('the second unit fails after a write')
    }),
    // A constraint error from SQLite itself: the id of the first unit.
    commits.run(() => insert.run(1, 'duplicate')),
    commits.run(() => insert.run(3, 'third'))
  ])
  t.same(outcomes.map(o => o.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled'])
  t.match((outcomes[1] as PromiseRejectedResult).reason, { message: 'the second unit fails after a write' })
  t.match((outcomes[2] as PromiseRejectedResult).reason, { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' })
  t.same(reader.prepare('SELECT id, label FROM items ORDER BY id').all(), [{ id: 1, label: 'first' }, { id: 3, label: 'third' }], 'nothing of the failed units was written')
  t.same(batches, [4], 'still one transaction')
  t.equal(writer.inTransaction, false)
})

t.test('another connection holding the write lock fails the whole batch with SQLITE_BUSY and writes nothing', async t => {
  const { writer, reader, insert } = rawPair(t)
  const path = reader.name
  const holder = new Database(path)
  t.teardown(() => holder.close())
  holder.pragma('busy_timeout = 0')
  writer.pragma('busy_timeout = 0')
  holder.exec('BEGIN IMMEDIATE')
  const commits = groupCommit(writer)
  const outcomes = await Promise.allSettled([commits.run(() => insert.run(1, 'a')), commits.run(() => insert.run(2, 'b'))])
  t.same(outcomes.map(o => o.status), ['rejected', 'rejected'])
  t.match((outcomes[0] as PromiseRejectedResult).reason, { code: 'SQLITE_BUSY' })
  holder.exec('COMMIT')
  t.same(reader.prepare('SELECT count(*) AS n FROM items').get(), { n: 0 })
  // The connection is usable again at once: the next batch commits.
  await commits.run(() => insert.run(3, 'c'))
  t.same(reader.prepare('SELECT id FROM items').all(), [{ id: 3 }])
})

t.test('rotations called together share one transaction and keep their rules: rotation, replay in the grace window, reuse', async t => {
  const db = openDatabase(`file:${tempFile(t)}`)
  t.teardown(() => db.$client.close())
  const repos = sqliteRepositories(db)
  const now = new Date()
  const at = (ms: number) => new Date(now.getTime() + ms)
  await repos.users.create({ id: 'u1', email: 'u1@example.com', username: 'User1', passwordHash: '$2a$04$hash', dateJoined: now })
  for (let i = 1; i <= 4; i++) {
    await repos.sessions.create({ id: `s${i}`, userId: 'u1', createdAt: now, userAgent: null, ip: null, firstToken: { id: `s${i}-t0`, tokenHash: `s${i}-h0`, expiresAt: at(DAY) } })
  }
  const rotation = (session: number, step: number, when: Date) => ({
    tokenHash: `s${session}-h${step}`,
    now: when,
    graceMs: 10_000,
    successor: { id: `s${session}-t${step + 1}-${when.getTime()}`, tokenHash: `s${session}-h${step + 1}-${when.getTime()}`, expiresAt: at(2 * DAY), sealed: `sealed-s${session}` },
    ip: '192.0.2.1',
    userAgent: 'agent'
  })
  const batches = committedBatches(t)
  const outcomes = await Promise.all([
    repos.sessions.rotate(rotation(1, 0, at(1))),
    repos.sessions.rotate(rotation(2, 0, at(1))),
    // The same token twice in one batch: the second is a replay within the grace window.
    repos.sessions.rotate(rotation(3, 0, at(1))),
    repos.sessions.rotate(rotation(3, 0, at(2))),
    // Unknown: invalid, and the others go on.
    repos.sessions.rotate({ ...rotation(4, 7, at(1)) })
  ])
  t.same(batches, [5], 'one transaction for the five rotations')
  t.same(outcomes.map(o => o.kind), ['rotated', 'rotated', 'rotated', 'replayed', 'invalid'])
  t.match(outcomes[3], { kind: 'replayed', sealedSuccessor: 'sealed-s3' })

  // Past the grace window, in a batch with a legitimate rotation: reuse ends only its own session.
  const later = await Promise.all([
    repos.sessions.rotate(rotation(3, 0, at(60_000))),
    repos.sessions.rotate(rotation(4, 0, at(60_000)))
  ])
  t.same(later.map(o => o.kind), ['reused', 'rotated'])
  t.same(batches, [5, 2])
  const live = await repos.sessions.listLive('u1', at(60_001))
  t.same(live.map(s => s.id).sort(), ['s1', 's2', 's4'], 'the reused session is revoked, the others live')
})

t.test('through the app: concurrent refreshes share transactions; every rotated token works once', sqliteOnly('its group commit'), async t => {
  const url = await testDatabaseUrl(t)
  const app = await build(t, {}, { env: { DATABASE_URL: url } })
  const sessions = []
  for (let i = 0; i < 10; i++) sessions.push(await loginUser(app))
  const batches = committedBatches(t)
  const responses = await Promise.all(sessions.map(s => app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: s.refresh } })))
  t.same(responses.map(r => r.statusCode), sessions.map(() => 200))
  t.equal(batches.reduce((sum, units) => sum + units, 0), 10, 'every rotation committed')
  t.ok(batches.length < 10, `fewer transactions than rotations (${batches.join(', ')})`)
  const again = await Promise.all(responses.map(r => app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: r.json().refresh } })))
  t.same(again.map(r => r.statusCode), sessions.map(() => 200), 'each successor was stored and rotates in turn')
})
