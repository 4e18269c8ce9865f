// Linked provider identities and pending server-driven social logins, on PostgreSQL.
import { and, eq, ne, sql } from 'drizzle-orm'
import { usernameKey } from '../username-key.js'
import { UniqueViolation, type SocialAccountRecord, type SocialAccountRepository } from '../repositories.js'
import { hasNul, inTransaction, uniqueConstraint, type PgDb, type PgTx } from './database.js'
import { toUser } from '../records.js'
import { socialAccounts, socialLoginStates, users } from './schema.js'
import { rethrowUnique } from './users.js'
import { appendAuditEvents } from './audit-events.js'

/** A unique violation on social_accounts (the identity, or the provider for the user) is about the provider. */
function rethrowProviderTaken (err: unknown): never {
  if (uniqueConstraint(err)?.startsWith('social_accounts_') === true) throw new UniqueViolation('provider')
  throw err
}

export function postgresSocialAccountRepository (db: PgDb): SocialAccountRepository {
  async function insertAccount (executor: PgDb | PgTx, account: SocialAccountRecord): Promise<void> {
    try {
      await executor.insert(socialAccounts).values(account)
    } catch (err) {
      rethrowProviderTaken(err)
    }
  }

  return {
    async find (provider, providerUserId) {
      if (hasNul(provider, providerUserId)) return
      const [row] = await db.select().from(socialAccounts)
        .where(and(eq(socialAccounts.provider, provider), eq(socialAccounts.providerUserId, providerUserId)))
      return row
    },

    async providersOf (userId) {
      const rows = await db.select({ provider: socialAccounts.provider }).from(socialAccounts)
        .where(eq(socialAccounts.userId, userId)).orderBy(sql`${socialAccounts.provider} COLLATE "C"`)
      return rows.map(row => row.provider)
    },

    async link (account) {
      await insertAccount(db, account)
    },

    async createUserWithLink (user, account, events = []) {
      // Both rows or neither; each insert's unique violation is named by its own table's rules.
      return inTransaction(db, async tx => {
        let created
        try {
          [created] = await tx.insert(users).values({ ...user, usernameKey: usernameKey(user.username) }).returning()
        } catch (err) {
          rethrowUnique(err)
        }
        await insertAccount(tx, account)
        await appendAuditEvents(tx, events)
        return toUser(created)
      })
    },

    async recordLogin (id, now, email) {
      await db.update(socialAccounts).set({ lastLoginAt: now, email }).where(eq(socialAccounts.id, id))
    },

    async unlink (userId, provider) {
      return inTransaction(db, async tx => {
        // The user's row is locked before anything is read: two unlinks of its last two providers
        // (or an unlink and a password removal) run one after the other, and the second one's reads,
        // each a fresh snapshot, see what the first left; the account can never end with no way in.
        // NO KEY UPDATE excludes every other such writer but not foreign-key checks (a login's session insert).
        const [owner] = await tx.select({ hasPassword: sql<boolean>`${users.passwordHash} IS NOT NULL` }).from(users)
          .where(eq(users.id, userId)).for('no key update')
        if (owner === undefined) return 'not_linked'
        const [linked] = await tx.select({ id: socialAccounts.id }).from(socialAccounts)
          .where(and(eq(socialAccounts.userId, userId), eq(socialAccounts.provider, provider)))
        if (linked === undefined) return 'not_linked'
        if (!owner.hasPassword) {
          const [other] = await tx.select({ id: socialAccounts.id }).from(socialAccounts)
            .where(and(eq(socialAccounts.userId, userId), ne(socialAccounts.provider, provider))).limit(1)
          if (other === undefined) return 'last_login_method'
        }
        await tx.delete(socialAccounts).where(eq(socialAccounts.id, linked.id))
        return 'unlinked'
      })
    },

    async saveState (stateHash, state) {
      await db.insert(socialLoginStates).values({
        stateHash,
        provider: state.provider,
        codeVerifier: state.codeVerifier,
        nonce: state.nonce,
        redirectTo: state.redirectTo,
        createdAt: state.createdAt,
        expiresAt: state.expiresAt
      })
    },

    async consumeState (stateHash, now) {
      if (hasNul(stateHash)) return
      // DELETE … RETURNING: of two callbacks racing with one state, only one gets the row.
      const [row] = await db.delete(socialLoginStates).where(eq(socialLoginStates.stateHash, stateHash)).returning({
        provider: socialLoginStates.provider,
        codeVerifier: socialLoginStates.codeVerifier,
        nonce: socialLoginStates.nonce,
        redirectTo: socialLoginStates.redirectTo,
        expiresAt: socialLoginStates.expiresAt
      })
      if (row === undefined || row.expiresAt.getTime() <= now.getTime()) return undefined
      return row
    },

    async pruneStates (now, limit) {
      const deleted = await db.execute(sql`DELETE FROM social_login_states WHERE state_hash IN (
                                             SELECT state_hash FROM social_login_states WHERE expires_at <= ${now}
                                              LIMIT ${limit} FOR UPDATE SKIP LOCKED)`)
      return deleted.rowCount ?? 0
    }
  }
}
