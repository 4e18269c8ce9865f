// The revocation feed on SQLite: the recorder the session, user and client repositories write
// through (inside their own transactions), and the feed's reader and pruner.
import type { RevocationEvent, RevocationRepository } from '../repositories.js'
import type { SqliteDb } from './connection.js'

export interface RevocationRecorder {
  /** Every token of this session is revoked. */
  session (sessionId: string, now: Date): void
  /**
   * Every token of this user or client issued up to `now` is revoked. `not_before` is `now` itself:
   * verifiers compare it with `iat`, which has whole seconds, so a token is revoked when
   * `iat * 1000 <= not_before` (one issued later in that same second too: erring towards revoked).
   */
  subject (subject: string, now: Date): void
  /** This client access token (by jti) is revoked. */
  token (jti: string, now: Date): void
}

export function revocationRecorder (db: SqliteDb): RevocationRecorder {
  const insert = db.$client.prepare('INSERT INTO revocation_events (session_id, subject, jti, not_before, created_at) VALUES (?, ?, ?, ?, ?)')
  return {
    session (sessionId, now) {
      insert.run(sessionId, null, null, now.getTime(), now.getTime())
    },
    subject (subject, now) {
      insert.run(null, subject, null, now.getTime(), now.getTime())
    },
    token (jti, now) {
      insert.run(null, null, jti, now.getTime(), now.getTime())
    }
  }
}

interface EventRow { seq: number, session_id: string | null, subject: string | null, jti: string | null, not_before: number, created_at: number }

function toEvent (row: EventRow): RevocationEvent {
  return { seq: row.seq, sessionId: row.session_id, subject: row.subject, jti: row.jti, notBefore: new Date(row.not_before), createdAt: new Date(row.created_at) }
}

export function sqliteRevocationRepository (db: SqliteDb): RevocationRepository {
  const client = db.$client
  const afterSeq = client.prepare<[number, number], EventRow>('SELECT * FROM revocation_events WHERE seq > ? ORDER BY seq LIMIT ?')
  const sinceTime = client.prepare<[number, number], EventRow>('SELECT * FROM revocation_events WHERE created_at >= ? ORDER BY seq LIMIT ?')
  const latest = client.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM revocation_events')
  // sqlite_sequence keeps AUTOINCREMENT's high-water mark after the rows are pruned.
  const issued = client.prepare<[], { seq: number | null }>(
    `SELECT max(coalesce((SELECT max(seq) FROM revocation_events), 0),
                coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'revocation_events'), 0)) AS seq`)
  const prune = client.prepare('DELETE FROM revocation_events WHERE seq IN (SELECT seq FROM revocation_events WHERE created_at < ? ORDER BY seq LIMIT ?)')

  return {
    async list (options) {
      const rows = options.afterSeq !== undefined
        ? afterSeq.all(options.afterSeq, options.limit)
        : sinceTime.all(options.since?.getTime() ?? 0, options.limit)
      return rows.map(toEvent)
    },

    async latestSeq () {
      return latest.get()?.seq ?? 0
    },

    async issuedSeq () {
      return issued.get()?.seq ?? 0
    },

    async prune (before, limit) {
      return prune.run(before.getTime(), limit).changes
    }
  }
}
