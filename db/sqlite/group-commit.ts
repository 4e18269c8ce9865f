// Group commit: small writes arriving together share one SQLite transaction, hence one fsync.
// With synchronous=FULL every COMMIT syncs the WAL, and better-sqlite3 does it on the event loop:
// one commit per refresh capped the service at one fsync's rate with every other request waiting
// behind it. Here a write is queued, and a flush scheduled with setImmediate runs every queued
// write inside one BEGIN IMMEDIATE … COMMIT, each in its own SAVEPOINT (a failing write rolls back
// only itself and rejects only its own promise). Under load batches grow by themselves; a lone
// write costs what it did.
//
// On a database file in WAL mode the sync itself leaves the event loop too (wal-sync.ts): the batch
// commits with synchronous=NORMAL (the connection's FULL is restored at once for every other
// transaction), and its promises settle only after the WAL was synced on the thread pool. Either
// way a promise settles only once its write is on disk: an acknowledged write survives a crash or
// a power loss.
import { channel } from 'node:diagnostics_channel'
import type Database from 'better-sqlite3'
import { walSync, type WalSync } from './wal-sync.js'

/** Published after each committed batch ({ units }): for monitoring, and for tests to count transactions. */
export const commitChannel = channel('portcullis:sqlite:commit')

export interface GroupCommit {
  /**
   * Runs `unit` (synchronous, its writes only) in the next shared transaction; resolves with its
   * result once that transaction committed, rejects with its error (its writes undone) or with
   * the transaction's (nothing of it written: SQLITE_BUSY from another process is retried by busy.ts).
   */
  run: <T>(unit: () => T) => Promise<T>
}

interface Queued {
  unit: () => unknown
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

type Outcome = { ok: true, value: unknown } | { ok: false, error: unknown }

/**
 * A database file in WAL mode that syncs every commit (FULL, or EXTRA: 2 and 3) gets its WAL synced
 * off the event loop; an in-memory one has nothing to sync, and a connection set to sync less was
 * not promised more.
 */
function syncsOwnWal (client: Database.Database, synchronous: number): WalSync | undefined {
  if (client.memory || client.readonly || synchronous < 2) return undefined
  if (client.pragma('journal_mode', { simple: true }) !== 'wal') return undefined
  return walSync(client.name, () => client.open)
}

export function groupCommit (client: Database.Database): GroupCommit {
  const begin = client.prepare('BEGIN IMMEDIATE')
  const commit = client.prepare('COMMIT')
  const rollback = client.prepare('ROLLBACK')
  // better-sqlite3's wrapper opens a SAVEPOINT when a transaction is already open, and rolls back
  // to it (only) when the function throws.
  const inSavepoint = client.transaction((unit: () => unknown) => unit())
  const synchronous = client.pragma('synchronous', { simple: true }) as number
  const wal = syncsOwnWal(client, synchronous)
  const deferSync = client.prepare('PRAGMA synchronous = NORMAL')
  const syncInCommit = client.prepare(`PRAGMA synchronous = ${synchronous}`)
  let queue: Queued[] = []
  let scheduled = false

  function schedule (): void {
    if (scheduled) return
    scheduled = true
    // setImmediate, not a microtask: the requests whose data already arrived get to queue theirs first.
    setImmediate(flush)
  }

  function flush (): void {
    scheduled = false
    const batch = queue
    queue = []
    if (batch.length === 0) return
    if (!client.open) {
      const closed = new Error('The database connection is closed.')
      for (const queued of batch) queued.reject(closed)
      return
    }
    // SQLite refuses to change the sync setting inside a transaction; one left open on the connection
    // fails BEGIN below, and every unit with it.
    const syncAfterCommit = wal !== undefined && !client.inTransaction
    if (syncAfterCommit) deferSync.run()
    let outcomes: Outcome[] | undefined
    try {
      outcomes = commitBatch(batch)
    } finally {
      if (syncAfterCommit) syncInCommit.run()
    }
    if (outcomes === undefined) return
    if (!syncAfterCommit) {
      settle(batch, outcomes)
      return
    }
    wal.barrier().then(() => settle(batch, outcomes), (err: unknown) => {
      // Committed, but not known to be on disk: nobody is told it succeeded.
      for (const queued of batch) queued.reject(err)
    })
  }

  /**
   * Runs the batch in one transaction and returns each unit's outcome once it committed. When
   * nothing of it committed, every unit is settled here (failed, or the ones after a failure that
   * took the transaction with it queued again) and nothing is returned.
   */
  function commitBatch (batch: Queued[]): Outcome[] | undefined {
    try {
      begin.run()
    } catch (err) {
      // Nothing ran: every unit fails with the error (SQLITE_BUSY is retried whole by busy.ts).
      for (const queued of batch) queued.reject(err)
      return undefined
    }
    const outcomes: Outcome[] = []
    for (let i = 0; i < batch.length; i++) {
      try {
        outcomes.push({ ok: true, value: inSavepoint(batch[i].unit) })
      } catch (err) {
        outcomes.push({ ok: false, error: err })
        if (!client.inTransaction) {
          // SQLite rolled the whole transaction back (an I/O error, a full disk): the units before
          // this one are undone too and fail with its error; the ones after go to the next batch.
          for (let done = 0; done < i; done++) outcomes[done] = { ok: false, error: err }
          settle(batch.slice(0, i + 1), outcomes)
          queue = batch.slice(i + 1).concat(queue)
          if (queue.length > 0) schedule()
          return undefined
        }
      }
    }
    try {
      commit.run()
    } catch (err) {
      if (client.inTransaction) rollback.run()
      for (const queued of batch) queued.reject(err)
      return undefined
    }
    if (commitChannel.hasSubscribers) commitChannel.publish({ units: batch.length })
    return outcomes
  }

  function settle (batch: Queued[], outcomes: Outcome[]): void {
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i]
      if (outcome.ok) batch[i].resolve(outcome.value)
      else batch[i].reject(outcome.error)
    }
  }

  return {
    run<T> (unit: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ unit, resolve: resolve as (value: unknown) => void, reject })
        schedule()
      })
    }
  }
}
