// Password reset by email: a single-use link; confirming it sets the password, verifies the address
// and ends every session of the user.
import { isBanned } from './state.js'
import { assertPasswordAcceptable } from './accounts.js'
import type { AuthDeps } from '../deps.js'
import { errors } from '../errors.js'
import { normaliseEmail } from './identifiers.js'
import { linkWithToken, resetPasswordMail } from '../mail/templates.js'
import { issueOneTimeToken } from './one-time-tokens.js'
import { hashOpaqueToken } from '../sessions/opaque-tokens.js'
import { auditEvent } from '../audit/events.js'

/** Mails a reset link if the address belongs to an account that may log in; says nothing either way. */
export async function requestPasswordReset (deps: AuthDeps, email: string): Promise<void> {
  const now = deps.now()
  const user = await deps.repositories.users.findByEmail(normaliseEmail(email))
  if (user === undefined || !user.isActive || isBanned(user, now)) return
  const ttl = deps.config.passwordResetTtl
  const token = await issueOneTimeToken(deps, user, 'reset_password', ttl)
  deps.mailer.send({ to: user.email, ...resetPasswordMail(user.username, linkWithToken(deps.config.resetPasswordUrl, token), ttl) })
}

/** Whether a reset token is live, without using it (for a page that shows the form). */
export async function isResetTokenLive (deps: AuthDeps, token: string): Promise<boolean> {
  return await deps.repositories.oneTimeTokens.findLive(hashOpaqueToken(token), 'reset_password', deps.now()) !== undefined
}

export async function confirmPasswordReset (deps: AuthDeps, token: string, newPassword: string): Promise<void> {
  const tokenHash = hashOpaqueToken(token)
  const live = await deps.repositories.oneTimeTokens.findLive(tokenHash, 'reset_password', deps.now())
  const user = live && await deps.repositories.users.findById(live.userId)
  if (live === undefined || user === undefined) throw errors.invalidToken()
  // The policy is checked before the token is used up, so a rejected password leaves the link working.
  await assertPasswordAcceptable(deps, 'new_password', newPassword, { email: user.email, username: user.username })
  const passwordHash = await deps.hasher.hash(newPassword)
  const now = deps.now()
  // Of two racing confirmations only one consumes the token.
  if (await deps.repositories.oneTimeTokens.consume(tokenHash, 'reset_password', now) === undefined) throw errors.invalidToken()
  // The new password and the end of every session in one transaction: a login in flight with the
  // old password finds the hash changed and gets no session.
  const changed = await deps.repositories.sessions.updateUserAndRevoke(user.id, {
    patch: {
      passwordHash,
      // Following the link proved control of the address it was sent to.
      ...(user.email === live.email && { emailVerified: true })
    },
    now,
    reason: 'password_reset',
    events: [
      auditEvent(deps, 'password.reset', user.id, {}, { type: 'user', id: user.id }),
      ...(user.email === live.email && !user.emailVerified ? [auditEvent(deps, 'email.verified', user.id, { email: user.email }, { type: 'user', id: user.id })] : [])
    ]
  })
  if (changed === undefined) throw errors.invalidToken()
}
