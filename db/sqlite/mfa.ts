// The second-factor repository on SQLite: TOTP factors, recovery codes, MFA challenges, and what spans passkeys too.
import { randomUUID } from 'node:crypto'
import { and, count, eq, gt, isNotNull, isNull, lt, lte, or, inArray } from 'drizzle-orm'
import type { MfaRepository } from '../repositories.js'
import { auditRecorder } from './audit.js'
import type { SqliteDb } from './connection.js'
import { mfaChallenges, mfaRecoveryCodes, mfaTotp, passkeys } from './schema.js'

/**
 * Recovery codes back up a second factor: once the user has neither a confirmed TOTP factor nor a
 * passkey, they would be one on their own, so they go. Inside the transaction of a factor's removal.
 */
export function dropOrphanRecoveryCodes (tx: Pick<SqliteDb, 'select' | 'delete'>, userId: string): void {
  const keys = tx.select({ n: count() }).from(passkeys).where(eq(passkeys.userId, userId)).get()
  const totp = tx.select({ userId: mfaTotp.userId }).from(mfaTotp).where(and(eq(mfaTotp.userId, userId), isNotNull(mfaTotp.confirmedAt))).get()
  if ((keys?.n ?? 0) === 0 && totp === undefined) tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId)).run()
}

export function sqliteMfaRepository (db: SqliteDb): MfaRepository {
  const audit = auditRecorder(db)

  function writeRecoveryCodes (tx: Pick<SqliteDb, 'insert' | 'delete'>, userId: string, codeHashes: string[], now: Date): void {
    tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId)).run()
    if (codeHashes.length > 0) {
      tx.insert(mfaRecoveryCodes).values(codeHashes.map(codeHash => ({ id: randomUUID(), userId, codeHash, createdAt: now }))).run()
    }
  }

  return {
    async findTotp (userId) {
      const row = db.select().from(mfaTotp).where(eq(mfaTotp.userId, userId)).get()
      return row && { secret: row.secret, createdAt: row.createdAt, confirmedAt: row.confirmedAt, lastUsedStep: row.lastUsedStep }
    },

    async savePendingTotp (userId, secret, now) {
      return db.transaction(tx => {
        const existing = tx.select({ confirmedAt: mfaTotp.confirmedAt }).from(mfaTotp).where(eq(mfaTotp.userId, userId)).get()
        if (existing?.confirmedAt != null) return false
        tx.insert(mfaTotp).values({ userId, secret, createdAt: now })
          .onConflictDoUpdate({ target: mfaTotp.userId, set: { secret, createdAt: now, lastUsedStep: null } }).run()
        return true
      }, { behavior: 'immediate' })
    },

    async confirmTotp (userId, step, recoveryCodeHashes, now, events = []) {
      return db.transaction(tx => {
        const confirmed = tx.update(mfaTotp).set({ confirmedAt: now, lastUsedStep: step })
          .where(and(eq(mfaTotp.userId, userId), isNull(mfaTotp.confirmedAt))).run().changes
        if (confirmed === 0) return false
        writeRecoveryCodes(tx, userId, recoveryCodeHashes, now)
        audit.append(events)
        return true
      }, { behavior: 'immediate' })
    },

    async useTotpStep (userId, step) {
      // The condition is the replay check: of two requests with the same code, one changes the row.
      return db.update(mfaTotp).set({ lastUsedStep: step })
        .where(and(eq(mfaTotp.userId, userId), isNotNull(mfaTotp.confirmedAt), or(isNull(mfaTotp.lastUsedStep), lt(mfaTotp.lastUsedStep, step))))
        .run().changes > 0
    },

    async deleteTotp (userId, events = []) {
      return db.transaction(tx => {
        const deleted = tx.delete(mfaTotp).where(eq(mfaTotp.userId, userId)).run().changes > 0
        dropOrphanRecoveryCodes(tx, userId)
        if (deleted) audit.append(events)
        return deleted
      }, { behavior: 'immediate' })
    },

    async replaceRecoveryCodes (userId, codeHashes, now) {
      db.transaction(tx => { writeRecoveryCodes(tx, userId, codeHashes, now) }, { behavior: 'immediate' })
    },

    async useRecoveryCode (userId, codeHash, now) {
      return db.update(mfaRecoveryCodes).set({ usedAt: now })
        .where(and(eq(mfaRecoveryCodes.userId, userId), eq(mfaRecoveryCodes.codeHash, codeHash), isNull(mfaRecoveryCodes.usedAt)))
        .run().changes > 0
    },

    async factors (userId) {
      const totp = db.select({ confirmedAt: mfaTotp.confirmedAt }).from(mfaTotp).where(eq(mfaTotp.userId, userId)).get()
      const keys = db.select({ n: count() }).from(passkeys).where(eq(passkeys.userId, userId)).get()
      const codes = db.select({ n: count() }).from(mfaRecoveryCodes)
        .where(and(eq(mfaRecoveryCodes.userId, userId), isNull(mfaRecoveryCodes.usedAt))).get()
      return { totp: totp?.confirmedAt != null, passkeys: keys?.n ?? 0, recoveryCodesLeft: codes?.n ?? 0 }
    },

    async deleteAll (userId, events = []) {
      return db.transaction(tx => {
        const totp = tx.delete(mfaTotp).where(eq(mfaTotp.userId, userId)).run().changes
        const codes = tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId)).run().changes
        const keys = tx.delete(passkeys).where(eq(passkeys.userId, userId)).run().changes
        if (totp + codes + keys > 0) audit.append(events)
        return totp + codes + keys > 0
      }, { behavior: 'immediate' })
    },

    async issueChallenge (challenge) {
      db.insert(mfaChallenges).values(challenge).run()
    },

    async findChallenge (tokenHash, purpose, now) {
      const row = db.select({ id: mfaChallenges.id, userId: mfaChallenges.userId, data: mfaChallenges.data, expiresAt: mfaChallenges.expiresAt })
        .from(mfaChallenges)
        .where(and(eq(mfaChallenges.tokenHash, tokenHash), eq(mfaChallenges.purpose, purpose), isNull(mfaChallenges.usedAt), gt(mfaChallenges.expiresAt, now)))
        .get()
      return row
    },

    async consumeChallenge (id, now) {
      return db.update(mfaChallenges).set({ usedAt: now })
        .where(and(eq(mfaChallenges.id, id), isNull(mfaChallenges.usedAt), gt(mfaChallenges.expiresAt, now)))
        .run().changes > 0
    },

    async pruneChallenges (now, limit) {
      const dead = db.select({ id: mfaChallenges.id }).from(mfaChallenges)
        .where(or(isNotNull(mfaChallenges.usedAt), lte(mfaChallenges.expiresAt, now))).limit(limit)
      return db.delete(mfaChallenges).where(inArray(mfaChallenges.id, dead)).run().changes
    }
  }
}
