// Builds every repository over one SQLite connection.
import type { Repositories } from '../repositories.js'
import type { SqliteDb } from './connection.js'
import { sqliteAuthorizationRepository } from './authorization.js'
import { sqliteBackgroundJobRepository } from './background-jobs.js'
import { sqliteOneTimeTokenRepository } from './one-time-tokens.js'
import { sqliteRevocationRepository } from './revocations.js'
import { sqliteServiceClientRepository } from './service-clients.js'
import { sqliteSessionRepository } from './sessions.js'
import { sqliteSigningKeyRepository } from './signing-keys.js'
import { sqliteSocialAccountRepository } from './social-accounts.js'
import { sqliteUserRepository } from './users.js'

export { openDatabase, databasePath, type SqliteDb } from './connection.js'

export function sqliteRepositories (db: SqliteDb): Repositories {
  const ping = db.$client.prepare('SELECT 1')
  return {
    users: sqliteUserRepository(db),
    sessions: sqliteSessionRepository(db),
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
    backgroundJobs: sqliteBackgroundJobRepository(db)
  }
}
