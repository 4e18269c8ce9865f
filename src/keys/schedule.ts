// When each key of the ring signs and is published: pure functions of the stored dates and a time.
//
// A key signs from its creation (or, if older keys of its algorithm are still signing then, from
// the moment the last of them retires) until its `retiredAt`; keys therefore take over in creation
// order, and a rotation can publish the next key ahead of the moment it starts signing. A key is
// published (and accepted) until `retiredAt + retention`, so every token it signed expires first.

/** How far a retired key stays published beyond the access-token lifetime: clock skew, and the
 * processes that keep signing with it until their next reload of the key ring. */
export const RETENTION_MARGIN_SECONDS = 60

export interface ScheduledKey {
  kid: string
  algorithm: string
  createdAt: Date
  /** When it stops signing; may be in the future (a rotation in progress); null: not scheduled. */
  retiredAt: Date | null
}

export interface KeyTimes {
  /** Access-token lifetime plus the margin, in ms. */
  retentionMs: number
}

export type KeyStatus = 'active' | 'next' | 'retired' | 'expired'

export interface KeyTimeline<K extends ScheduledKey> {
  key: K
  /** `active` signs now; `next` is published and will sign; `retired` is published for its tokens; `expired` is neither. */
  status: KeyStatus
  /** When it starts (or started) signing; null when it never signs with this algorithm. */
  signsFrom: Date | null
  /** Until when it is published; null while it is not scheduled to retire. */
  publishedUntil: Date | null
}

const retirement = (key: ScheduledKey) => key.retiredAt?.getTime() ?? Infinity

/** Creation order; of keys created in the same millisecond, the one retiring first came first. */
function byCreation<K extends ScheduledKey> (keys: K[]): K[] {
  return [...keys].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || retirement(a) - retirement(b) || a.kid.localeCompare(b.kid))
}

/** Whether the key is still published (and accepted) at `now`. */
export function isPublished (key: ScheduledKey, now: number, times: KeyTimes): boolean {
  return key.retiredAt === null || now < key.retiredAt.getTime() + times.retentionMs
}

/** Whether the key still signs or will sign (not retired at `now`). */
export function isLive (key: ScheduledKey, now: number): boolean {
  return key.retiredAt === null || key.retiredAt.getTime() > now
}

/** The key of `algorithm` that signs at `now`: the oldest live one. */
export function signerAt<K extends ScheduledKey> (keys: K[], algorithm: string, now: number): K | undefined {
  return byCreation(keys).find(key => key.algorithm === algorithm && key.createdAt.getTime() <= now && isLive(key, now))
}

/** Every key with its status at `now`, oldest first. */
export function timeline<K extends ScheduledKey> (keys: K[], algorithm: string, now: number, times: KeyTimes): Array<KeyTimeline<K>> {
  const signer = signerAt(keys, algorithm, now)
  let previousRetirement = -Infinity
  return byCreation(keys).map(key => {
    let signsFrom: Date | null = null
    if (key.algorithm === algorithm) {
      const from = Math.max(key.createdAt.getTime(), previousRetirement)
      signsFrom = Number.isFinite(from) ? new Date(from) : null
      previousRetirement = Math.max(previousRetirement, key.retiredAt?.getTime() ?? Infinity)
    }
    const publishedUntil = key.retiredAt === null ? null : new Date(key.retiredAt.getTime() + times.retentionMs)
    const status: KeyStatus = key === signer
      ? 'active'
      : isLive(key, now) ? 'next' : isPublished(key, now, times) ? 'retired' : 'expired'
    return { key, status, signsFrom, publishedUntil }
  })
}

/** The next moment after `now` at which the signer or the published set changes (Infinity: none). */
export function nextChange (keys: ScheduledKey[], now: number, times: KeyTimes): number {
  let next = Infinity
  for (const key of keys) {
    const moments = [key.createdAt.getTime()]
    if (key.retiredAt !== null) moments.push(key.retiredAt.getTime(), key.retiredAt.getTime() + times.retentionMs)
    for (const moment of moments) if (moment > now && moment < next) next = moment
  }
  return next
}
