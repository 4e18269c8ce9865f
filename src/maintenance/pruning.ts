// maintenance/: background work that keeps storage small.
// What is dead and may go: one batch of each kind, shared by the background pruner and `prune-tokens`.
import type { AuthDeps } from '../deps.js'
import { pruneRevocations } from '../sessions/revocation-feed.js'
import { pruneSessions } from '../sessions/sessions.js'

export interface PruneCounts {
  /** Expired sessions and refresh tokens, and sessions revoked longer ago than any access token lives. */
  sessions: number
  /** Used or expired email-verification and password-reset tokens. */
  oneTimeTokens: number
  /** Revocation-feed events and denylisted client tokens that no live token can concern. */
  revocations: number
  /** Social logins abandoned at the provider (their state expired). */
  socialStates: number
  /** Used or expired `mfa_token`s (the second step of a login). */
  mfaChallenges: number
  /** Django refresh tokens recorded as exchanged that have expired since (their `exp` refuses them now). */
  djangoRefreshTokens: number
  /** Webhook deliveries delivered or dead longer ago than WEBHOOK_DELIVERY_RETENTION. */
  webhookDeliveries: number
}

export function totalPruned (counts: PruneCounts): number {
  return counts.sessions + counts.oneTimeTokens + counts.revocations + counts.socialStates + counts.mfaChallenges + counts.djangoRefreshTokens + counts.webhookDeliveries
}

/** Deletes at most `batchSize` rows of each kind; small batches keep each synchronous delete (and its lock) short. */
export async function pruneBatch (deps: AuthDeps, batchSize: number): Promise<PruneCounts> {
  const now = deps.now()
  const retention = deps.config.webhookDeliveryRetention
  return {
    sessions: await pruneSessions(deps, batchSize),
    oneTimeTokens: await deps.repositories.oneTimeTokens.prune(now, batchSize),
    revocations: await pruneRevocations(deps, batchSize),
    socialStates: await deps.repositories.socialAccounts.pruneStates(now, batchSize),
    mfaChallenges: await deps.repositories.mfa.pruneChallenges(now, batchSize),
    djangoRefreshTokens: await deps.repositories.django.pruneRefreshTokens(now, batchSize),
    webhookDeliveries: retention > 0 ? await deps.repositories.webhooks.pruneDeliveries(new Date(now.getTime() - retention * 1000), batchSize) : 0
  }
}

export function nothingPruned (): PruneCounts {
  return { sessions: 0, oneTimeTokens: 0, revocations: 0, socialStates: 0, mfaChallenges: 0, djangoRefreshTokens: 0, webhookDeliveries: 0 }
}

/** Batches until nothing is left, summed. */
export async function pruneAll (deps: AuthDeps, batchSize: number): Promise<PruneCounts> {
  const total = nothingPruned()
  for (let batch = await pruneBatch(deps, batchSize); totalPruned(batch) > 0; batch = await pruneBatch(deps, batchSize)) {
    for (const key of Object.keys(total) as Array<keyof PruneCounts>) total[key] += batch[key]
  }
  return total
}
