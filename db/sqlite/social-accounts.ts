// Linked provider identities and pending server-driven social logins, on SQLite.
import { usernameKey } from '../username-key.js'
import { UniqueViolation, type NewUser, type SocialAccountRecord, type SocialAccountRepository, type SocialLoginState, type NewAuditEvent } from '../repositories.js'
import { auditRecorder } from './audit.js'
import { users } from './schema.js'
import type { SqliteDb } from './connection.js'
import { toUser } from '../records.js'
import { rethrowUnique } from './users.js'

interface AccountRow {
  id: string
  provider: string
  provider_user_id: string
  user_id: string
  email: string | null
  linked_at: number
  last_login_at: number | null
}

interface StateRow {
  provider: string
  code_verifier: string
  nonce: string | null
  redirect_to: string
  expires_at: number
}

const toAccount = (row: AccountRow): SocialAccountRecord => ({
  id: row.id,
  provider: row.provider,
  providerUserId: row.provider_user_id,
  userId: row.user_id,
  email: row.email,
  linkedAt: new Date(row.linked_at),
  lastLoginAt: row.last_login_at === null ? null : new Date(row.last_login_at)
})

const toState = (row: StateRow): SocialLoginState => ({
  provider: row.provider,
  codeVerifier: row.code_verifier,
  nonce: row.nonce,
  redirectTo: row.redirect_to,
  expiresAt: new Date(row.expires_at)
})

function isUniqueFailure (err: unknown): boolean {
  return (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' || (err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}

export function sqliteSocialAccountRepository (db: SqliteDb): SocialAccountRepository {
  const client = db.$client
  const find = client.prepare<[string, string], AccountRow>('SELECT * FROM social_accounts WHERE provider = ? AND provider_user_id = ?')
  const providersOf = client.prepare<[string], { provider: string }>('SELECT provider FROM social_accounts WHERE user_id = ? ORDER BY provider')
  const insert = client.prepare(`INSERT INTO social_accounts (id, provider, provider_user_id, user_id, email, linked_at, last_login_at)
                                 VALUES (?, ?, ?, ?, ?, ?, ?)`)
  const hasLink = client.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM social_accounts WHERE user_id = ? AND provider = ?')
  const recordLogin = client.prepare('UPDATE social_accounts SET last_login_at = ?, email = ? WHERE id = ?')
  const unlink = client.prepare('DELETE FROM social_accounts WHERE user_id = ? AND provider = ?')
  const loginMethods = client.prepare<{ user: string, provider: string }, { has_password: number, providers: number }>(`
    SELECT (SELECT password_hash IS NOT NULL FROM users WHERE id = @user) AS has_password,
           (SELECT count(*) FROM social_accounts WHERE user_id = @user AND provider <> @provider) AS providers`)
  const saveState = client.prepare(`INSERT INTO social_login_states (state_hash, provider, code_verifier, nonce, redirect_to, created_at, expires_at)
                                    VALUES (?, ?, ?, ?, ?, ?, ?)`)
  // DELETE … RETURNING: of two callbacks racing with one state, only one gets the row.
  const consumeState = client.prepare<[string], StateRow>(`DELETE FROM social_login_states WHERE state_hash = ?
                                       RETURNING provider, code_verifier, nonce, redirect_to, expires_at`)
  const pruneStates = client.prepare(`DELETE FROM social_login_states WHERE state_hash IN (
                                        SELECT state_hash FROM social_login_states WHERE expires_at <= ? LIMIT ?)`)

  function insertAccount (account: SocialAccountRecord): void {
    try {
      insert.run(account.id, account.provider, account.providerUserId, account.userId, account.email,
        account.linkedAt.getTime(), account.lastLoginAt?.getTime() ?? null)
    } catch (err) {
      if (isUniqueFailure(err)) throw new UniqueViolation('provider')
      throw err
    }
  }

  const audit = auditRecorder(db)
  const createWithLink = client.transaction((user: NewUser, account: SocialAccountRecord, events: NewAuditEvent[]) => {
    let created
    try {
      created = db.insert(users).values({ ...user, usernameKey: usernameKey(user.username) }).returning().get()
    } catch (err) {
      rethrowUnique(err)
    }
    insertAccount(account)
    audit.append(events)
    return toUser(created)
  })

  // Checked and done under one write lock: two unlinks racing cannot leave an account with no way in.
  const unlinkUnlessLast = client.transaction((userId: string, provider: string) => {
    if (hasLink.get(userId, provider) === undefined) return 'not_linked' as const
    const methods = loginMethods.get({ user: userId, provider })
    if (methods?.has_password !== 1 && methods?.providers === 0) return 'last_login_method' as const
    unlink.run(userId, provider)
    return 'unlinked' as const
  })

  return {
    async find (provider, providerUserId) {
      const row = find.get(provider, providerUserId)
      return row && toAccount(row)
    },
    async providersOf (userId) {
      return providersOf.all(userId).map(row => row.provider)
    },
    async link (account) {
      insertAccount(account)
    },
    async createUserWithLink (user, account, events = []) {
      return createWithLink.immediate(user, account, events)
    },
    async recordLogin (id, now, email) {
      recordLogin.run(now.getTime(), email, id)
    },
    async unlink (userId, provider) {
      return unlinkUnlessLast.immediate(userId, provider)
    },
    async saveState (stateHash, state) {
      saveState.run(stateHash, state.provider, state.codeVerifier, state.nonce, state.redirectTo, state.createdAt.getTime(), state.expiresAt.getTime())
    },
    async consumeState (stateHash, now) {
      const row = consumeState.get(stateHash)
      if (row === undefined || row.expires_at <= now.getTime()) return undefined
      return toState(row)
    },
    async pruneStates (now, limit) {
      return pruneStates.run(now.getTime(), limit).changes
    }
  }
}
