// Issuing a single-use emailed token (verification, reset): a fresh secret whose hash is stored, and
// which retires the older tokens of the same kind.
import { randomUUID } from 'node:crypto'
import type { OneTimeTokenPurpose, UserRecord } from '../../db/repositories.js'
import type { AuthDeps } from '../deps.js'
import { hashOpaqueToken, newOpaqueToken } from '../sessions/opaque-tokens.js'

/** Stores the token for the user's current address and returns it (to be mailed, never stored). */
export async function issueOneTimeToken (
  deps: AuthDeps,
  user: Pick<UserRecord, 'id' | 'email'>,
  purpose: OneTimeTokenPurpose,
  ttlSeconds: number
): Promise<string> {
  const now = deps.now()
  const token = newOpaqueToken()
  await deps.repositories.oneTimeTokens.issue({
    id: randomUUID(),
    userId: user.id,
    purpose,
    tokenHash: hashOpaqueToken(token),
    email: user.email,
    createdAt: now,
    expiresAt: new Date(now.getTime() + ttlSeconds * 1000)
  })
  return token
}
