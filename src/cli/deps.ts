// The domain's dependencies for the CLI: the server's database and password rules, no mail, no tokens.
import type { AuthDeps } from '../deps.js'
import type { Config } from '../config.js'
import type { LoginThrottle } from '../limits/login-throttle.js'
import type { Mailer } from '../mail/mailer.js'
import { createPasswordHasher, type PasswordHasher } from '../passwords/hasher.js'
import { configuredPasswordPolicy } from '../passwords/configured.js'
import { openStorage } from '../../db/open.js'

export interface CliDeps {
  deps: AuthDeps
  /** Where the database is, for the operator: the SQLite file, or host:port/database. */
  location: string
  /** Stops the hashing thread and closes the database; the process cannot exit before. */
  close (): Promise<void>
}

/**
 * Opens DATABASE_URL, SQLite or PostgreSQL (applying pending migrations, as the server does). A
 * database that is not there is refused (DatabaseMissingError), never created: a command run from
 * the wrong directory must not act on a database no server reads. `log` gets notes for the operator.
 */
export async function openCliDeps (config: Config, log: (line: string) => void): Promise<CliDeps> {
  const storage = await openStorage({
    url: config.databaseUrl,
    // A command runs one query at a time.
    poolMax: Math.min(config.databasePoolMax, 2),
    connectTimeoutMs: config.databaseConnectTimeout * 1000,
    busyTimeoutMs: config.databaseBusyTimeout * 1000,
    mustExist: true,
    warn: log
  })

  // One thread at the configured cost, started only by a command that hashes.
  let pool: PasswordHasher | undefined
  const pooled = () => (pool ??= createPasswordHasher({ cost: config.bcryptCost, threads: 1 }))
  const hasher: PasswordHasher = {
    hash: password => pooled().hash(password),
    verify: (password, hash) => pooled().verify(password, hash),
    needsRehash: hash => pooled().needsRehash(hash),
    close: async () => { await pool?.close() }
  }

  // No command mails today; should one start to, the operator hears that nothing was sent.
  const mailer: Mailer = {
    send (message) {
      log(`No mail is sent from the CLI: "${message.subject}" to ${message.to} was dropped.`)
    },
    async close () {}
  }

  // The CLI never logs anyone in.
  const loginThrottle: LoginThrottle = {
    async countAttempt () {},
    async forgetAttempt () {},
    async recordSuccess () {}
  }

  const deps: AuthDeps = {
    config,
    repositories: storage.repositories,
    hasher,
    mailer,
    loginThrottle,
    mfaThrottle: loginThrottle,
    passwordPolicy: configuredPasswordPolicy(config, (err, message) => log(`Warning: ${message} (${err instanceof Error ? err.message : String(err)}).`)),
    async signAccessToken () {
      throw new Error('The CLI does not issue access tokens.')
    },
    now: () => new Date()
  }

  return {
    deps,
    location: storage.location,
    async close () {
      await hasher.close()
      await storage.close()
    }
  }
}
