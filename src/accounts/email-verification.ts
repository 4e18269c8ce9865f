// Email verification: mail a single-use link, and mark the address verified when it comes back.
import type { UserRecord } from '../../db/repositories.js'
import type { AuthDeps } from '../deps.js'
import { errors } from '../errors.js'
import { normaliseEmail } from './identifiers.js'
import { linkWithToken, verifyEmailMail } from '../mail/templates.js'
import { issueOneTimeToken } from './one-time-tokens.js'
import { hashOpaqueToken } from '../sessions/opaque-tokens.js'
import { auditEvent } from '../audit/events.js'

/** Issues a verification token for the user's current address (older ones die) and mails the link. */
export async function sendVerificationEmail (deps: AuthDeps, user: Pick<UserRecord, 'id' | 'email' | 'username'>): Promise<void> {
  const ttl = deps.config.verifyEmailTtl
  const token = await issueOneTimeToken(deps, user, 'verify_email', ttl)
  const mail = verifyEmailMail(user.username, linkWithToken(deps.config.verifyEmailUrl, token), ttl)
  deps.mailer.send({ to: user.email, ...mail })
}

/** Uses up the token and marks the address verified. Unknown, expired and used tokens are all invalid_token. */
export async function verifyEmail (deps: AuthDeps, token: string): Promise<UserRecord> {
  const record = await deps.repositories.oneTimeTokens.consume(hashOpaqueToken(token), 'verify_email', deps.now())
  if (record === undefined) throw errors.invalidToken()
  const user = await deps.repositories.users.findById(record.userId)
  // The token proves control of the address it was sent to, not of whatever address the account has now.
  if (user === undefined || user.email !== record.email) throw errors.invalidToken()
  if (user.emailVerified) return user
  return await deps.repositories.users.update(user.id, { emailVerified: true },
    [auditEvent(deps, 'email.verified', user.id, { email: user.email }, { type: 'user', id: user.id })]) ?? user
}

/** Mails a fresh link if the address belongs to an unverified account; says nothing either way. */
export async function resendVerification (deps: AuthDeps, email: string): Promise<void> {
  const user = await deps.repositories.users.findByEmail(normaliseEmail(email))
  if (user === undefined || user.emailVerified) return
  await sendVerificationEmail(deps, user)
}
