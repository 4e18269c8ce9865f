// The revocation feed: revoked sessions, per-subject "not before" times and revoked client tokens, in commit order, for
// services that verify access tokens offline; and its pruning.
import type { RevocationEvent } from '../../db/repositories.js'
import type { AuthDeps } from '../deps.js'
import { errors } from '../errors.js'

export interface RevocationItem {
  sid?: string
  sub?: string
  jti?: string
  not_before: string
}

export interface RevocationPage {
  items: RevocationItem[]
  /** Pass back as `since` for what comes next; the same cursor again when nothing came. */
  cursor: string
}

/** Events are kept this long past the longest access-token lifetime: a verifier's clock may lag. */
export const FEED_RETENTION_MARGIN_SECONDS = 300

const CURSOR = /^\d{1,15}$/

function item (event: RevocationEvent): RevocationItem {
  return {
    ...(event.sessionId !== null && { sid: event.sessionId }),
    ...(event.subject !== null && { sub: event.subject }),
    ...(event.jti !== null && { jti: event.jti }),
    not_before: event.notBefore.toISOString()
  }
}

/** `since` is a cursor from an earlier page (digits) or an ISO 8601 time; anything else is a 400. */
function parseSince (since: string | undefined): { afterSeq?: number, since?: Date } {
  if (since === undefined) return {}
  if (CURSOR.test(since)) return { afterSeq: Number(since) }
  const time = new Date(since)
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(since) || Number.isNaN(time.getTime())) {
    throw errors.validation([{ field: 'since', message: 'must be a cursor from an earlier answer or an ISO 8601 date-time with an offset' }])
  }
  return { since: time }
}

export async function listRevocations (deps: AuthDeps, options: { since?: string, limit: number }): Promise<RevocationPage> {
  const position = parseSince(options.since)
  const { revocations } = deps.repositories
  // A cursor this feed never handed out (a Unix time, one kept from before a restore) would answer an
  // empty page for ever: the poller holding it would never see a revocation again. Refused, so it resets.
  if (position.afterSeq !== undefined && position.afterSeq > await revocations.issuedSeq()) throw errors.invalidCursor()
  // Read before the page: when the page is empty, every event up to here is older than `since`.
  const latest = await revocations.latestSeq()
  const events = await revocations.list({ ...position, limit: options.limit })
  const last = events.at(-1)
  const cursor = last !== undefined ? last.seq : position.afterSeq ?? latest
  return { items: events.map(item), cursor: String(cursor) }
}

/** Deletes a batch of feed events no live access token can concern, and of expired denylisted client tokens. */
export async function pruneRevocations (deps: AuthDeps, batchSize: number): Promise<number> {
  const now = deps.now()
  const before = new Date(now.getTime() - (deps.config.accessTokenTtl + FEED_RETENTION_MARGIN_SECONDS) * 1000)
  const events = await deps.repositories.revocations.prune(before, batchSize)
  const tokens = await deps.repositories.serviceClients.pruneRevokedTokens(now, batchSize)
  return events + tokens
}
