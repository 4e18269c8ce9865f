// The PostgreSQL revocation feed: reading, pruning, and the guarantee pollers rely on: an event never
// appears below a cursor already served, even when the transactions writing events overlap.
import { setImmediate as nextTurn } from 'node:timers/promises'
import t from 'tap'
import { sql } from 'drizzle-orm'
import type { PgDb } from '../../../db/postgres/database.js'
import { appendRevocationEvent } from '../../../db/postgres/revocation-events.js'
import { postgresRevocationRepository } from '../../../db/postgres/revocations.js'
import { revocationEvents } from '../../../db/postgres/schema.js'
import type { RevocationEvent } from '../../../db/repositories.js'
import { freshDatabase } from './fresh-database.js'
import { advisoryWaiters, instances } from './instances.js'

const later = (date: Date, ms: number) => new Date(date.getTime() + ms)

async function append (db: PgDb, event: { sessionId: string } | { subject: string } | { jti: string }, now: Date): Promise<void> {
  await db.transaction(tx => appendRevocationEvent(tx, event, now))
}

/** A transaction that has appended its event and stays open until `commit()`. */
async function openTransaction (db: PgDb, sessionId: string, now: Date) {
  let commit!: () => void
  const committed = new Promise<void>(resolve => { commit = resolve })
  let appended!: () => void
  const ready = new Promise<void>(resolve => { appended = resolve })
  const done = db.transaction(async tx => {
    await appendRevocationEvent(tx, { sessionId }, now)
    appended()
    await committed
  })
  await ready
  return { commit, done }
}

t.test('list after a seq or from a time, in seq order, at most limit; latestSeq; prune the old ones in batches', async t => {
  const db = await freshDatabase(t)
  const feed = postgresRevocationRepository(db)
  const now = new Date()
  t.equal(await feed.latestSeq(), 0, 'an empty feed')
  t.same(await feed.list({ limit: 10 }), [])
  await append(db, { sessionId: 's1' }, later(now, -3000))
  await append(db, { subject: 'u1' }, later(now, -2000))
  await append(db, { sessionId: 's2' }, later(now, -1000))
  await append(db, { subject: 'u2' }, now)

  const all = await feed.list({ limit: 10 })
  t.same(all.map(e => [e.sessionId, e.subject]), [['s1', null], [null, 'u1'], ['s2', null], [null, 'u2']], 'from the beginning')
  t.same(all[1], { seq: all[1].seq, sessionId: null, subject: 'u1', jti: null, notBefore: later(now, -2000), createdAt: later(now, -2000) })
  t.ok(all.every((e, i) => typeof e.seq === 'number' && (i === 0 || e.seq > all[i - 1].seq)), 'numeric, increasing seqs')
  t.equal(await feed.latestSeq(), all[3].seq)
  t.same(await feed.list({ afterSeq: all[1].seq, limit: 10 }), all.slice(2))
  t.same(await feed.list({ afterSeq: all[0].seq, limit: 2 }), all.slice(1, 3))
  t.same(await feed.list({ afterSeq: all[3].seq, limit: 10 }), [])
  t.same(await feed.list({ since: later(now, -2000), limit: 10 }), all.slice(1), 'created at or after `since`')

  t.equal(await feed.prune(later(now, -1000), 1), 1, 'at most `limit`')
  t.equal(await feed.prune(later(now, -1000), 10), 1, 'only those created before `before`')
  t.same(await feed.list({ limit: 10 }), all.slice(2))
  t.equal(await feed.latestSeq(), all[3].seq)
})

t.test('issuedSeq: 0 before any event, then the highest seq drawn, even once every event is pruned', async t => {
  const db = await freshDatabase(t)
  const feed = postgresRevocationRepository(db)
  const now = new Date()
  t.equal(await feed.issuedSeq(), 0, 'an unused sequence')
  await append(db, { sessionId: 's1' }, later(now, -1000))
  await append(db, { jti: 'j1' }, later(now, -1000))
  const all = await feed.list({ limit: 10 })
  t.same(all.map(e => e.jti), [null, 'j1'], 'a client token event names its jti')
  t.equal(await feed.issuedSeq(), all[1].seq)
  t.equal(await feed.prune(now, 10), 2)
  t.equal(await feed.latestSeq(), 0, 'nothing is left')
  t.equal(await feed.issuedSeq(), all[1].seq, 'the cursors handed out are still known')
})

/** Reads past `cursor` as a poller does; the events and the new cursor. */
async function poll (feed: ReturnType<typeof postgresRevocationRepository>, cursor: number) {
  const events = await feed.list({ afterSeq: cursor, limit: 1000 })
  return { events, cursor: events.at(-1)?.seq ?? cursor }
}

t.test('two overlapping transactions: the later one cannot commit its event before the earlier one, so no poller skips an event', async t => {
  const db = await freshDatabase(t)
  const [writer1, writer2] = instances(t, db, 2)
  const feed = postgresRevocationRepository(db)
  const now = new Date()
  await append(db, { sessionId: 'before' }, now)
  const served: RevocationEvent[] = []
  let read = await poll(feed, 0)
  served.push(...read.events)

  // T1 appends and stays open; T2 then appends and commits.
  const t1 = await openTransaction(writer1, 't1', now)
  const t2 = append(writer2, { sessionId: 't2' }, now)
  await advisoryWaiters(db, 1)
  read = await poll(feed, read.cursor)
  t.same(read.events, [], 'T2 waits for T1 on the feed lock: the poller sees neither, not T2 ahead of T1')
  const maxServed = read.cursor

  t1.commit()
  await t1.done
  await t2
  read = await poll(feed, read.cursor)
  served.push(...read.events)
  t.same(read.events.map(e => e.sessionId), ['t1', 't2'], 'both, in commit order, after the cursor')
  const everything = await feed.list({ limit: 1000 })
  t.same(everything.filter(e => e.seq <= maxServed), served.filter(e => e.seq <= maxServed), 'every event at or below the cursor served earlier had already been served: no gap was filled later')
  t.same(everything, served, 'the poller saw every event')
})

t.test('why the writer takes the lock: without it, an event can appear below a cursor already served', async t => {
  const db = await freshDatabase(t)
  const [writer1, writer2] = instances(t, db, 2)
  const feed = postgresRevocationRepository(db)
  const now = new Date()
  const insert = (sessionId: string) => sql`INSERT INTO revocation_events (session_id, not_before, created_at) VALUES (${sessionId}, ${now}, ${now})`
  let commit!: () => void
  const committed = new Promise<void>(resolve => { commit = resolve })
  let inserted!: () => void
  const ready = new Promise<void>(resolve => { inserted = resolve })
  const t1 = writer1.transaction(async tx => {
    await tx.execute(insert('t1'))
    inserted()
    await committed
  })
  await ready
  await writer2.execute(insert('t2'))
  const early = await poll(feed, 0)
  t.same(early.events.map(e => e.sessionId), ['t2'], 'T2 committed first with the larger seq')
  commit()
  await t1
  const late = await feed.list({ limit: 10 })
  t.ok(late.some(e => e.sessionId === 't1' && e.seq < early.cursor), 'T1 appeared below the cursor: a poller past it never sees it')
  t.same((await poll(feed, early.cursor)).events, [], 'and polling on does not find it')
})

t.test('a poller racing many overlapping writers on several instances sees every event', async t => {
  const db = await freshDatabase(t)
  const writers = instances(t, db, 4)
  const feed = postgresRevocationRepository(db)
  const now = new Date()
  const writing = { busy: true }
  const served: RevocationEvent[] = []
  const poller = (async () => {
    let cursor = 0
    while (writing.busy) {
      const read = await poll(feed, cursor)
      served.push(...read.events)
      cursor = read.cursor
    }
    const read = await poll(feed, cursor)
    served.push(...read.events)
  })()
  await Promise.all(Array.from({ length: 8 }, async (_, writer) => {
    for (let i = 0; i < 5; i++) {
      await writers[writer % writers.length].transaction(async tx => {
        await appendRevocationEvent(tx, { sessionId: `w${writer}-${i}` }, now)
        // Still open after its event: the window in which a later event could overtake it.
        for (let turn = 0; turn < writer % 3; turn++) await nextTurn()
      })
    }
  }))
  writing.busy = false
  await poller
  const stored = await db.select().from(revocationEvents)
  t.equal(stored.length, 40)
  t.same(served.map(e => e.seq), stored.map(e => e.seq).sort((a, b) => a - b), 'the poller, following its cursor, saw every event once')
})
