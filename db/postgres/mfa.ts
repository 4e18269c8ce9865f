// The second-factor repository on PostgreSQL: TOTP factors, recovery codes, MFA challenges, and what spans passkeys too.
import { randomUUID } from 'node:crypto'
import { and, count, eq, gt, isNotNull, isNull, lt, or, sql } from 'drizzle-orm'
import type { MfaRepository } from '../repositories.js'
import { appendAuditEvents } from './audit-events.js'
import { hasNul, inTransaction, type PgExecutor, type PgDb } from './database.js'
import { mfaChallenges, mfaRecoveryCodes, mfaTotp, passkeys } from './schema.js'

async function writeRecoveryCodes (tx: PgExecutor, userId: string, codeHashes: string[], now: Date): Promise<void> {
  await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId))
  if (codeHashes.length > 0) {
    await tx.insert(mfaRecoveryCodes).values(codeHashes.map(codeHash => ({ id: randomUUID(), userId, codeHash, createdAt: now })))
  }
}

/**
 * Recovery codes back up a second factor: once the user has neither a confirmed TOTP factor nor a
 * passkey, they would be one on their own, so they go. Inside the transaction of a factor's removal,
 * which has locked the user's row first (two removals at once cannot both see the other factor).
 */
export async function dropOrphanRecoveryCodes (tx: PgExecutor, userId: string): Promise<void> {
  const [keys] = await tx.select({ n: count() }).from(passkeys).where(eq(passkeys.userId, userId))
  const [totp] = await tx.select({ userId: mfaTotp.userId }).from(mfaTotp).where(and(eq(mfaTotp.userId, userId), isNotNull(mfaTotp.confirmedAt)))
  if ((keys?.n ?? 0) === 0 && totp === undefined) await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId))
}

export function postgresMfaRepository (db: PgDb): MfaRepository {
  return {
    async findTotp (userId) {
      if (hasNul(userId)) return
      const [row] = await db.select().from(mfaTotp).where(eq(mfaTotp.userId, userId))
      return row && { secret: row.secret, createdAt: row.createdAt, confirmedAt: row.confirmedAt, lastUsedStep: row.lastUsedStep }
    },

    async savePendingTotp (userId, secret, now) {
      // One statement: a confirmed factor is never overwritten, whatever runs at the same time.
      const saved = await db.insert(mfaTotp).values({ userId, secret, createdAt: now })
        .onConflictDoUpdate({ target: mfaTotp.userId, set: { secret, createdAt: now, lastUsedStep: null }, setWhere: isNull(mfaTotp.confirmedAt) })
        .returning({ userId: mfaTotp.userId })
      return saved.length > 0
    },

    async confirmTotp (userId, step, recoveryCodeHashes, now, events = []) {
      return inTransaction(db, async tx => {
        const confirmed = await tx.update(mfaTotp).set({ confirmedAt: now, lastUsedStep: step })
          .where(and(eq(mfaTotp.userId, userId), isNull(mfaTotp.confirmedAt))).returning({ userId: mfaTotp.userId })
        if (confirmed.length === 0) return false
        await writeRecoveryCodes(tx, userId, recoveryCodeHashes, now)
        await appendAuditEvents(tx, events)
        return true
      })
    },

    async useTotpStep (userId, step) {
      // The condition is the replay check: of two requests with the same code, one changes the row.
      const used = await db.update(mfaTotp).set({ lastUsedStep: step })
        .where(and(eq(mfaTotp.userId, userId), isNotNull(mfaTotp.confirmedAt), or(isNull(mfaTotp.lastUsedStep), lt(mfaTotp.lastUsedStep, step))))
        .returning({ userId: mfaTotp.userId })
      return used.length > 0
    },

    async deleteTotp (userId, events = []) {
      if (hasNul(userId)) return false
      return inTransaction(db, async tx => {
        // The user's row locked first: a passkey removed at the same time cannot leave the codes without a factor.
        await tx.execute(sql`SELECT id FROM users WHERE id = ${userId} FOR UPDATE`)
        const deleted = await tx.delete(mfaTotp).where(eq(mfaTotp.userId, userId)).returning({ userId: mfaTotp.userId })
        await dropOrphanRecoveryCodes(tx, userId)
        if (deleted.length > 0) await appendAuditEvents(tx, events)
        return deleted.length > 0
      })
    },

    async replaceRecoveryCodes (userId, codeHashes, now) {
      await inTransaction(db, async tx => { await writeRecoveryCodes(tx, userId, codeHashes, now) })
    },

    async useRecoveryCode (userId, codeHash, now) {
      if (hasNul(codeHash)) return false
      const used = await db.update(mfaRecoveryCodes).set({ usedAt: now })
        .where(and(eq(mfaRecoveryCodes.userId, userId), eq(mfaRecoveryCodes.codeHash, codeHash), isNull(mfaRecoveryCodes.usedAt)))
        .returning({ id: mfaRecoveryCodes.id })
      return used.length > 0
    },

    async factors (userId) {
      if (hasNul(userId)) return { totp: false, passkeys: 0, recoveryCodesLeft: 0 }
      const [totp] = await db.select({ confirmedAt: mfaTotp.confirmedAt }).from(mfaTotp).where(eq(mfaTotp.userId, userId))
      const [keys] = await db.select({ n: count() }).from(passkeys).where(eq(passkeys.userId, userId))
      const [codes] = await db.select({ n: count() }).from(mfaRecoveryCodes)
        .where(and(eq(mfaRecoveryCodes.userId, userId), isNull(mfaRecoveryCodes.usedAt)))
      return { totp: totp?.confirmedAt != null, passkeys: keys?.n ?? 0, recoveryCodesLeft: codes?.n ?? 0 }
    },

    async deleteAll (userId, events = []) {
      if (hasNul(userId)) return false
      return inTransaction(db, async tx => {
        const totp = await tx.delete(mfaTotp).where(eq(mfaTotp.userId, userId)).returning({ userId: mfaTotp.userId })
        const codes = await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId)).returning({ id: mfaRecoveryCodes.id })
        const keys = await tx.delete(passkeys).where(eq(passkeys.userId, userId)).returning({ id: passkeys.id })
        const removed = totp.length + codes.length + keys.length
        if (removed > 0) await appendAuditEvents(tx, events)
        return removed > 0
      })
    },

    async issueChallenge (challenge) {
      await db.insert(mfaChallenges).values(challenge)
    },

    async findChallenge (tokenHash, purpose, now) {
      if (hasNul(tokenHash)) return
      const [row] = await db.select({ id: mfaChallenges.id, userId: mfaChallenges.userId, data: mfaChallenges.data, expiresAt: mfaChallenges.expiresAt })
        .from(mfaChallenges)
        .where(and(eq(mfaChallenges.tokenHash, tokenHash), eq(mfaChallenges.purpose, purpose), isNull(mfaChallenges.usedAt), gt(mfaChallenges.expiresAt, now)))
      return row
    },

    async consumeChallenge (id, now) {
      // One conditional UPDATE: of two racing verifications, the second sees the row used.
      const used = await db.update(mfaChallenges).set({ usedAt: now })
        .where(and(eq(mfaChallenges.id, id), isNull(mfaChallenges.usedAt), gt(mfaChallenges.expiresAt, now)))
        .returning({ id: mfaChallenges.id })
      return used.length > 0
    },

    async pruneChallenges (now, limit) {
      const deleted = await db.execute(sql`DELETE FROM mfa_challenges WHERE id IN (
                                             SELECT id FROM mfa_challenges WHERE used_at IS NOT NULL OR expires_at <= ${now}
                                              LIMIT ${limit} FOR UPDATE SKIP LOCKED)`)
      return deleted.rowCount ?? 0
    }
  }
}
