// Builds every repository over one PostgreSQL pool.
import { sql } from 'drizzle-orm'
import type { Repositories } from '../repositories.js'
import type { PgDb } from './database.js'
import { postgresAuditRepository } from './audit-events.js'
import { postgresWebhookRepository } from './webhooks.js'
import { postgresAttemptCounterRepository } from './attempts.js'
import { postgresAuthorizationRepository } from './authorization.js'
import { postgresBackgroundJobRepository } from './background-jobs.js'
import { postgresMfaRepository } from './mfa.js'
import { postgresPasskeyRepository } from './passkeys.js'
import { postgresOneTimeTokenRepository } from './one-time-tokens.js'
import { postgresRevocationRepository } from './revocations.js'
import { postgresServiceClientRepository } from './service-clients.js'
import { postgresSessionRepository } from './sessions.js'
import { postgresSigningKeyRepository } from './signing-keys.js'
import { postgresSocialAccountRepository } from './social-accounts.js'
import { postgresUserRepository } from './users.js'
import { postgresDjangoRepository } from './django.js'

export { openPostgres, closePostgres, DatabaseUnavailableError, type PostgresOptions } from './connection.js'
export type { PgDb } from './database.js'

export function postgresRepositories (db: PgDb): Repositories {
  return {
    users: postgresUserRepository(db),
    sessions: postgresSessionRepository(db),
    signingKeys: postgresSigningKeyRepository(db),
    oneTimeTokens: postgresOneTimeTokenRepository(db),
    authorization: postgresAuthorizationRepository(db),
    socialAccounts: postgresSocialAccountRepository(db),
    health: {
      async ping () {
        await db.execute(sql`SELECT 1`)
      }
    },
    serviceClients: postgresServiceClientRepository(db),
    revocations: postgresRevocationRepository(db),
    backgroundJobs: postgresBackgroundJobRepository(db),
    audit: postgresAuditRepository(db),
    webhooks: postgresWebhookRepository(db),
    django: postgresDjangoRepository(db),
    mfa: postgresMfaRepository(db),
    passkeys: postgresPasskeyRepository(db),
    // Several instances share this database: their attempt counters must be shared too.
    attempts: postgresAttemptCounterRepository(db)
  }
}
