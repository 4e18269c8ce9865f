// Durability of a commit without an fsync on the event loop. With synchronous=FULL, SQLite syncs the
// WAL inside COMMIT, and better-sqlite3 runs COMMIT on the event loop: every request waits for the
// disk (1 ms typical here, 10 ms and more under load). With NORMAL, COMMIT writes the same WAL frames
// but leaves them in the page cache; syncing that file afterwards, on libuv's thread pool, and only
// then telling the caller, makes an acknowledged commit exactly as durable: the sync covers every
// frame written before it started, the commit frame included (what FULL syncs, and when it returns).
import { channel } from 'node:diagnostics_channel'
import { open, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'

/** Published after each completed sync of a WAL ({ path }): for monitoring, and for tests to order events. */
export const walSyncChannel = channel('portcullis:sqlite:wal-sync')

export interface WalSync {
  /** Resolves once everything written to the WAL before the call is on disk; rejects if the sync failed. */
  barrier (): Promise<void>
}

/**
 * Syncs `${databasePath}-wal`. Callers arriving while a sync runs share the next one (that one may
 * have started before their commit): at most one sync runs and one waits, whatever the load.
 */
export function walSync (databasePath: string, isOpen: () => boolean): WalSync {
  const walPath = `${databasePath}-wal`
  let running: Promise<void> | undefined
  let waiting: Promise<void> | undefined
  // Kept open while syncs follow one another (under load: opening and closing it cost as much CPU as
  // the sync itself), closed once none is waiting.
  let handle: FileHandle | undefined
  // SQLite creates the WAL at the first write after the connection opened: its directory entry is
  // synced once, as SQLite does for a file it created (under FULL, at the first sync).
  let directorySynced = false

  async function syncOnce (): Promise<void> {
    if (handle === undefined) {
      try {
        handle = await open(walPath, 'r')
      } catch (err) {
        // Closing the last connection checkpoints the WAL into the database file, syncs it and
        // removes the WAL: nothing is left to sync.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !isOpen()) return
        throw err
      }
    }
    await handle.datasync()
    if (!directorySynced) {
      const directory = await open(dirname(walPath), 'r')
      try {
        await directory.sync()
      } finally {
        await directory.close()
      }
      directorySynced = true
    }
    if (walSyncChannel.hasSubscribers) walSyncChannel.publish({ path: walPath })
  }

  function release (): void {
    const idle = handle
    handle = undefined
    // A failed close leaves nothing to undo: the syncs that needed this handle are over.
    idle?.close().catch(() => {})
  }

  function barrier (): Promise<void> {
    if (running === undefined) {
      running = syncOnce().finally(() => {
        running = undefined
        if (waiting === undefined) release()
      })
      return running
    }
    waiting ??= running.catch(() => {}).then(() => {
      waiting = undefined
      return barrier()
    })
    return waiting
  }

  return { barrier }
}
