// accounts/: registration, profile and password changes, email verification and reset, the one-time tokens they mail, account state and the user view.
// Registration, profile changes and password changes.
import { randomUUID } from 'node:crypto'
import { UniqueViolation, type UserRecord } from '../../db/repositories.js'
import type { AuthDeps, ClientInfo } from '../deps.js'
import { errors } from '../errors.js'
import { normaliseEmail } from './identifiers.js'
import { sendVerificationEmail } from './email-verification.js'
import { signupAttemptMail } from '../mail/templates.js'
import type { PasswordContext } from '../passwords/policy.js'
import { accountThrottleKey, checkPassword } from '../limits/password-check.js'
import { auditEvent } from '../audit/events.js'

/** Every password rule, the breached-password check included when configured. */
export async function assertPasswordAcceptable (deps: AuthDeps, field: string, password: string, context: PasswordContext): Promise<void> {
  const problems = await deps.passwordPolicy.check(password, context)
  if (problems.length > 0) {
    throw errors.validation(problems.map(message => ({ field, message })), `The ${field.replace('_', ' ')} is not acceptable: ${problems.join('; ')}.`)
  }
}

function uniqueConflict (err: unknown): never {
  if (err instanceof UniqueViolation) throw err.field === 'email' ? errors.emailTaken() : errors.usernameTaken()
  throw err
}

export interface Registration {
  email: string
  username: string
  password: string
}

/**
 * Creates the account and mails the verification link. With REGISTRATION_ENUMERATION_SAFE, an email
 * that is taken gets the same answer as a new one (a user that is never stored) and its owner a
 * "someone tried to sign up" mail, so registration cannot be used to find out who has an account.
 */
export async function register (deps: AuthDeps, input: Registration): Promise<UserRecord> {
  const email = normaliseEmail(input.email)
  const { users } = deps.repositories
  await assertPasswordAcceptable(deps, 'password', input.password, { email, username: input.username })
  // Cheap checks before the expensive hash; the unique indexes still decide a race.
  const owner = await users.findByEmail(email)
  if (owner !== undefined && deps.config.registrationEnumerationSafe) return pretendToRegister(deps, owner, input)
  if (owner !== undefined) throw errors.emailTaken()
  const user = await storeAccount(deps, { ...input, email })
  await sendVerificationEmail(deps, user)
  return user
}

export interface NewAccount extends Registration {
  emailVerified?: boolean
  isStaff?: boolean
  isSuperuser?: boolean
}

/**
 * Creates an account directly, as the operator CLI does: the password policy and the unique checks of
 * registration, but no verification mail and no enumeration-safe pretence (the operator sees the database).
 */
export async function createAccount (deps: AuthDeps, input: NewAccount): Promise<UserRecord> {
  const email = normaliseEmail(input.email)
  await assertPasswordAcceptable(deps, 'password', input.password, { email, username: input.username })
  if (await deps.repositories.users.findByEmail(email)) throw errors.emailTaken()
  return storeAccount(deps, { ...input, email })
}

/** The username check, the hash and the insert; `input.email` is already normalised and free. */
async function storeAccount (deps: AuthDeps, input: NewAccount): Promise<UserRecord> {
  const { users } = deps.repositories
  if (await users.findByUsername(input.username)) throw errors.usernameTaken()
  const passwordHash = await deps.hasher.hash(input.password)
  try {
    const id = randomUUID()
    return await users.create({
      id,
      email: input.email,
      username: input.username,
      passwordHash,
      dateJoined: deps.now(),
      ...(input.emailVerified !== undefined && { emailVerified: input.emailVerified }),
      ...(input.isStaff !== undefined && { isStaff: input.isStaff }),
      ...(input.isSuperuser !== undefined && { isSuperuser: input.isSuperuser })
    }, [auditEvent(deps, 'user.created', id, { username: input.username, email: input.email })])
  } catch (err) {
    uniqueConflict(err)
  }
}

async function pretendToRegister (deps: AuthDeps, owner: UserRecord, input: Registration): Promise<UserRecord> {
  // The same hashing work as a real registration, so the answer takes as long.
  await deps.hasher.hash(input.password)
  deps.mailer.send({ to: owner.email, ...signupAttemptMail(owner.username) })
  return {
    id: randomUUID(),
    email: owner.email,
    username: input.username,
    passwordHash: null,
    isActive: true,
    isStaff: false,
    isSuperuser: false,
    isBanned: false,
    banReason: null,
    bannedUntil: null,
    emailVerified: false,
    dateJoined: deps.now(),
    lastLogin: null
  }
}

export async function updateProfile (deps: AuthDeps, userId: string, patch: { username?: string }): Promise<UserRecord> {
  let updated: UserRecord | undefined
  try {
    updated = await deps.repositories.users.update(userId, patch, [auditEvent(deps, 'user.updated', userId, { fields: Object.keys(patch) })])
  } catch (err) {
    uniqueConflict(err)
  }
  if (updated === undefined) throw errors.userInactive()
  return updated
}

/**
 * Changes the password after checking the current one; every other session of the user is revoked
 * with the write. A wrong current password counts against the account's login limit (429 once it
 * is reached), like a failed login: this is a password check an attacker with a stolen access token
 * could otherwise repeat for ever.
 */
export async function changePassword (
  deps: AuthDeps,
  userId: string,
  currentSessionId: string,
  input: { currentPassword: string, newPassword: string },
  client: ClientInfo
): Promise<void> {
  const user = await deps.repositories.users.findById(userId)
  if (user === undefined) throw errors.userInactive()
  await assertPasswordAcceptable(deps, 'new_password', input.newPassword, { email: user.email, username: user.username })
  const source = { accountKey: accountThrottleKey(user.id), ip: client.ip ?? 'unknown', now: deps.now() }
  if (!await checkPassword(deps, source, input.currentPassword, user.passwordHash)) throw errors.wrongCurrentPassword()
  const passwordHash = await deps.hasher.hash(input.newPassword)
  // Compare-and-set on the hash just verified: a password changed meanwhile is not overwritten.
  const changed = await deps.repositories.sessions.updateUserAndRevoke(user.id, {
    patch: { passwordHash },
    expectedPasswordHash: user.passwordHash,
    now: deps.now(),
    reason: 'password_changed',
    keepSessionId: currentSessionId,
    events: [auditEvent(deps, 'password.changed', user.id, { by: 'user' })]
  })
  if (changed === undefined) throw errors.wrongCurrentPassword()
}

/** Sets a password without asking for the current one (the operator CLI); every session of the user is revoked. */
export async function setPassword (deps: AuthDeps, userId: string, newPassword: string): Promise<number> {
  const user = await deps.repositories.users.findById(userId)
  if (user === undefined) throw errors.notFound('No such user.')
  await assertPasswordAcceptable(deps, 'password', newPassword, { email: user.email, username: user.username })
  const passwordHash = await deps.hasher.hash(newPassword)
  const changed = await deps.repositories.sessions.updateUserAndRevoke(user.id, {
    patch: { passwordHash },
    now: deps.now(),
    reason: 'password_set',
    events: [auditEvent(deps, 'password.changed', user.id, { by: 'operator' })]
  })
  if (changed === undefined) throw errors.notFound('No such user.')
  return changed.revoked
}
