// The one-time tokens repository on SQLite (email verification, password reset).
import type { OneTimeTokenPurpose, OneTimeTokenRecord, OneTimeTokenRepository } from '../repositories.js'
import type { SqliteDb } from './connection.js'

interface Row {
  id: string
  user_id: string
  purpose: OneTimeTokenPurpose
  email: string
  expires_at: number
}

const toRecord = (row: Row): OneTimeTokenRecord => ({
  id: row.id,
  userId: row.user_id,
  purpose: row.purpose,
  email: row.email,
  expiresAt: new Date(row.expires_at)
})

export function sqliteOneTimeTokenRepository (db: SqliteDb): OneTimeTokenRepository {
  const client = db.$client
  const retireOlder = client.prepare('DELETE FROM one_time_tokens WHERE user_id = ? AND purpose = ? AND used_at IS NULL')
  const insert = client.prepare(`INSERT INTO one_time_tokens (id, user_id, purpose, token_hash, email, created_at, expires_at)
                                 VALUES (?, ?, ?, ?, ?, ?, ?)`)
  const live = client.prepare<[string, string, number], Row>(`SELECT id, user_id, purpose, email, expires_at FROM one_time_tokens
                                WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?`)
  // The WHERE clause repeats the liveness test: of two racing consumers only one changes the row.
  const markUsed = client.prepare('UPDATE one_time_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL')
  const prune = client.prepare(`DELETE FROM one_time_tokens WHERE id IN (
                                  SELECT id FROM one_time_tokens WHERE used_at IS NOT NULL OR expires_at <= ? LIMIT ?)`)

  const issueAtomically = client.transaction((token: Parameters<OneTimeTokenRepository['issue']>[0]) => {
    // A newer token of the same kind makes the older ones worthless.
    retireOlder.run(token.userId, token.purpose)
    insert.run(token.id, token.userId, token.purpose, token.tokenHash, token.email, token.createdAt.getTime(), token.expiresAt.getTime())
  })

  const consumeAtomically = client.transaction((tokenHash: string, purpose: OneTimeTokenPurpose, now: Date) => {
    const row = live.get(tokenHash, purpose, now.getTime())
    if (row === undefined) return undefined
    return markUsed.run(now.getTime(), row.id).changes === 1 ? toRecord(row) : undefined
  })

  return {
    async issue (token) {
      issueAtomically.immediate(token)
    },
    async findLive (tokenHash, purpose, now) {
      const row = live.get(tokenHash, purpose, now.getTime())
      return row && toRecord(row)
    },
    async consume (tokenHash, purpose, now) {
      return consumeAtomically.immediate(tokenHash, purpose, now)
    },
    async prune (now, limit) {
      return prune.run(now.getTime(), limit).changes
    }
  }
}
