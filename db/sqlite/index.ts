// Builds every repository over one SQLite connection.
import type { Repositories } from '../repositories.js'
import type { SqliteDb } from './connection.js'
import { busyRetryDelays, retryingWhenBusy } from './busy.js'
import { sqliteAuditRepository } from './audit.js'
import { sqliteWebhookRepository } from './webhooks.js'
import { sqliteAuthorizationRepository } from './authorization.js'
import { sqliteBackgroundJobRepository } from './background-jobs.js'
import { sqliteMfaRepository } from './mfa.js'
import { sqlitePasskeyRepository } from './passkeys.js'
import { sqliteOneTimeTokenRepository } from './one-time-tokens.js'
import { sqliteRevocationRepository } from './revocations.js'
import { sqliteServiceClientRepository } from './service-clients.js'
import { sqliteSessionRepository } from './sessions.js'
import { sqliteSigningKeyRepository } from './signing-keys.js'
import { sqliteSocialAccountRepository } from './social-accounts.js'
import { sqliteUserRepository } from './users.js'
import { sqliteDjangoRepository } from './django.js'
import { groupCommit } from './group-commit.js'

export { openDatabase, databaseFiles, databasePath, type SqliteDb } from './connection.js'
export { commitChannel } from './group-commit.js'

/** How long a call waits, in all, for another process's write lock before it fails with SQLITE_BUSY (a 503). */
export const DEFAULT_BUSY_TIMEOUT_MS = 2000

/**
 * The repositories, each call retried after a timer while another process holds the write lock
 * (busy.ts), for at most `busyTimeoutMs`.
 */
export function sqliteRepositories (db: SqliteDb, busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS): Repositories {
  const delays = busyRetryDelays(busyTimeoutMs)
  const repositories = plainRepositories(db)
  return Object.fromEntries(Object.entries(repositories).map(([name, repository]) => [name, retryingWhenBusy(repository, delays)])) as unknown as Repositories
}

function plainRepositories (db: SqliteDb): Repositories {
  const ping = db.$client.prepare('SELECT 1')
  // One per connection: every repository writing through it shares its transactions.
  const commits = groupCommit(db.$client)
  return {
    users: sqliteUserRepository(db),
    sessions: sqliteSessionRepository(db, commits),
    signingKeys: sqliteSigningKeyRepository(db),
    oneTimeTokens: sqliteOneTimeTokenRepository(db),
    authorization: sqliteAuthorizationRepository(db),
    socialAccounts: sqliteSocialAccountRepository(db),
    health: {
      async ping () {
        ping.get()
      }
    },
    serviceClients: sqliteServiceClientRepository(db),
    revocations: sqliteRevocationRepository(db),
    backgroundJobs: sqliteBackgroundJobRepository(db),
    audit: sqliteAuditRepository(db),
    webhooks: sqliteWebhookRepository(db),
    django: sqliteDjangoRepository(db),
    mfa: sqliteMfaRepository(db),
    passkeys: sqlitePasskeyRepository(db)
  }
}
