// Whether an error means the database could not be reached (restarting, down, out of connections),
// as opposed to a query it refused: the first is the service being unavailable for a moment, which a
// client should retry, not an internal error.

import { errorChain } from './error-causes.js'

// SQLSTATE classes 08 (connection exception) and 57 (operator intervention: shutting down, starting
// up), and 53300 (too many connections).
const UNAVAILABLE_SQLSTATE = /^(08|57)|^53300$/
// node-postgres and the socket below it, when the server went away or never answered.
const UNAVAILABLE_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'])
// SQLite's write lock still held by another process (the CLI, a backup) once the SQLite repositories
// have retried for DATABASE_BUSY_TIMEOUT (db/sqlite/busy.ts); extended codes such as SQLITE_BUSY_SNAPSHOT too.
const SQLITE_BUSY = /^SQLITE_BUSY/

export function isDatabaseUnavailable (err: unknown): boolean {
  for (const link of errorChain(err)) {
    if (typeof link.code === 'string' && (UNAVAILABLE_ERRNO.has(link.code) || SQLITE_BUSY.test(link.code) || (/^[0-9A-Z]{5}$/.test(link.code) && UNAVAILABLE_SQLSTATE.test(link.code)))) return true
    if (typeof link.message === 'string' && UNAVAILABLE_MESSAGE.test(link.message)) return true
  }
  return false
}
