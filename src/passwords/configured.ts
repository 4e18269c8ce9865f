// The password policy the configuration asks for: Django's rules as configured, and the breach check when PWNED_PASSWORDS_URL is set.
import type { Config } from '../config.js'
import { createBreachedPasswordCheck } from './breached.js'
import { createPasswordPolicy, type PasswordPolicy } from './policy.js'

export function configuredPasswordPolicy (config: Config, warn: (err: unknown, message: string) => void): PasswordPolicy {
  const rules = { commonPasswords: config.passwordCommonCheck, maxSimilarity: config.passwordMaxSimilarity }
  const breached = config.pwnedPasswordsUrl === undefined ? undefined : createBreachedPasswordCheck({ url: config.pwnedPasswordsUrl, warn })
  return createPasswordPolicy(rules, breached)
}
