// What the domain functions need, passed in explicitly so a test can call them without HTTP.
import type { Config } from './config.js'
import type { PasswordHasher } from './passwords/hasher.js'
import type { Repositories } from '../db/repositories.js'
import type { AccessTokenClaims } from './sessions/access-tokens.js'
import type { LoginThrottle } from './limits/login-throttle.js'
import type { Mailer } from './mail/mailer.js'
import type { PasswordPolicy } from './passwords/policy.js'

export interface AuthDeps {
  config: Config
  repositories: Repositories
  hasher: PasswordHasher
  mailer: Mailer
  loginThrottle: LoginThrottle
  /** Wrong second-factor codes per account (RATE_LIMIT_MFA_ACCOUNT). */
  mfaThrottle: LoginThrottle
  passwordPolicy: PasswordPolicy
  signAccessToken (claims: AccessTokenClaims): Promise<string>
  now (): Date
}

/** Where a request came from, recorded on its session. */
export interface ClientInfo {
  ip: string | null
  userAgent: string | null
}
