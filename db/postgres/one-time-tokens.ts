// The one-time tokens repository on PostgreSQL (email verification, password reset).
import { and, eq, gt, isNull, sql } from 'drizzle-orm'
import type { OneTimeTokenPurpose, OneTimeTokenRecord, OneTimeTokenRepository } from '../repositories.js'
import { hasNul, inTransaction, type PgDb } from './database.js'
import { oneTimeTokens } from './schema.js'

const recordColumns = {
  id: oneTimeTokens.id,
  userId: oneTimeTokens.userId,
  purpose: oneTimeTokens.purpose,
  email: oneTimeTokens.email,
  expiresAt: oneTimeTokens.expiresAt
}

const toRecord = (row: { id: string, userId: string, purpose: string, email: string, expiresAt: Date }): OneTimeTokenRecord =>
  ({ ...row, purpose: row.purpose as OneTimeTokenPurpose })

const live = (tokenHash: string, purpose: OneTimeTokenPurpose, now: Date) => and(
  eq(oneTimeTokens.tokenHash, tokenHash),
  eq(oneTimeTokens.purpose, purpose),
  isNull(oneTimeTokens.usedAt),
  gt(oneTimeTokens.expiresAt, now)
)

export function postgresOneTimeTokenRepository (db: PgDb): OneTimeTokenRepository {
  return {
    async issue (token) {
      await inTransaction(db, async tx => {
        // The user's row is locked first, so that two tokens issued at once for one user are issued
        // one after the other and the second retires the first (NO KEY UPDATE: foreign-key checks,
        // such as this insert's, still pass).
        await tx.execute(sql`SELECT 1 FROM users WHERE id = ${token.userId} FOR NO KEY UPDATE`)
        // A newer token of the same kind makes the older ones worthless.
        await tx.delete(oneTimeTokens).where(and(eq(oneTimeTokens.userId, token.userId), eq(oneTimeTokens.purpose, token.purpose), isNull(oneTimeTokens.usedAt)))
        await tx.insert(oneTimeTokens).values(token)
      })
    },

    async findLive (tokenHash, purpose, now) {
      if (hasNul(tokenHash)) return
      const [row] = await db.select(recordColumns).from(oneTimeTokens).where(live(tokenHash, purpose, now))
      return row && toRecord(row)
    },

    async consume (tokenHash, purpose, now) {
      if (hasNul(tokenHash)) return
      // One conditional UPDATE: of two racing consumers, the second waits for the first's row lock,
      // then re-checks the WHERE clause on the row as the first left it (used) and changes nothing.
      const [row] = await db.update(oneTimeTokens).set({ usedAt: now }).where(live(tokenHash, purpose, now)).returning(recordColumns)
      return row && toRecord(row)
    },

    async prune (now, limit) {
      // SKIP LOCKED: instances pruning at once take different rows, and never wait on a token being consumed.
      const deleted = await db.execute(sql`DELETE FROM one_time_tokens WHERE id IN (
                                             SELECT id FROM one_time_tokens WHERE used_at IS NOT NULL OR expires_at <= ${now}
                                              LIMIT ${limit} FOR UPDATE SKIP LOCKED)`)
      return deleted.rowCount ?? 0
    }
  }
}
