// The known revocations: ended sessions by sid, per-user "not before" times by sub, revoked client tokens by jti.
import type { VerifiedToken } from './claims.js'

/** One entry of Portcullis's revocation feed (`GET /api/auth/revocations`). */
export interface RevocationItem {
  sid?: string
  sub?: string
  /** A revoked client access token (`POST /oauth/revoke`). */
  jti?: string
  /** When the revocation took effect: an ISO 8601 timestamp or epoch seconds. */
  not_before: string | number
}

/** Epoch milliseconds of a feed timestamp; undefined when it is neither a date nor a number. */
function toMillis (value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value * 1000
  if (typeof value === 'string') {
    const parsed = Date.parse(value)
    return Number.isNaN(parsed) ? undefined : parsed
  }
  return undefined
}

export class RevocationList {
  /** Revoked session id → when (ms); a session is never reused, so any token of it is dead. */
  readonly #sessions = new Map<string, number>()
  /** User id → the latest "not before" (ms): tokens issued before it are dead (logout-all, ban, password change). */
  readonly #users = new Map<string, number>()
  /** Revoked client access tokens by jti → when (ms): only that token is dead. */
  readonly #tokens = new Map<string, number>()

  /**
   * @param retentionMs how long an entry is kept. Tokens issued before the window cannot be checked
   * against forgotten entries, so they are refused: keep it longer than the access token lifetime.
   */
  constructor (readonly retentionMs: number) {}

  get size (): number {
    return this.#sessions.size + this.#users.size + this.#tokens.size
  }

  /** Adds feed items; returns how many were usable (malformed items are skipped, not fatal). */
  apply (items: readonly unknown[]): number {
    let used = 0
    for (const item of items) {
      if (typeof item !== 'object' || item === null) continue
      const { sid, sub, jti, not_before: notBefore } = item as Record<string, unknown>
      const at = toMillis(notBefore)
      if (at === undefined) continue
      // An item naming a session ends that session only; only a bare sub moves the user's not-before.
      if (typeof sid === 'string') {
        this.#sessions.set(sid, Math.max(at, this.#sessions.get(sid) ?? 0))
        used++
      } else if (typeof sub === 'string') {
        this.#users.set(sub, Math.max(at, this.#users.get(sub) ?? 0))
        used++
      } else if (typeof jti === 'string') {
        this.#tokens.set(jti, Math.max(at, this.#tokens.get(jti) ?? 0))
        used++
      }
    }
    return used
  }

  /** Forgets entries older than the retention window. */
  prune (nowMs: number): void {
    const horizon = nowMs - this.retentionMs
    for (const map of [this.#sessions, this.#users, this.#tokens]) {
      for (const [key, at] of map) if (at < horizon) map.delete(key)
    }
  }

  /** Why the token is revoked, or undefined when it is not. */
  revocationOf (token: Pick<VerifiedToken, 'sid' | 'sub' | 'iat'> & { jti?: string }, nowMs = Date.now()): string | undefined {
    if (token.iat * 1000 < nowMs - this.retentionMs) return 'issued before the revocation window'
    if (token.sid !== undefined && this.#sessions.has(token.sid)) return 'the session has ended'
    if (token.jti !== undefined && this.#tokens.has(token.jti)) return 'the token was revoked'
    const notBefore = this.#users.get(token.sub)
    // iat has whole seconds: a token from the very second of the revocation is refused too (`>=`),
    // rather than let an older token of that second through when not_before is whole seconds as well.
    if (notBefore !== undefined && notBefore >= token.iat * 1000) return 'issued before the user\'s tokens were revoked'
    return undefined
  }
}
