// The optional breached-password check: the k-anonymity range API of Pwned Passwords (or a mirror).
import { createHash } from 'node:crypto'

export interface BreachedPasswordCheckOptions {
  /** The API's base URL; `GET {url}/range/{first five hex digits of the SHA-1}` is asked. */
  url: string
  /** A slower answer is given up on (and the password let through). */
  timeoutMs?: number
  /** Told when the check could not be made, so that an operator can see it; never gets the password. */
  warn (err: unknown, message: string): void
}

/** Whether the password appears in the breach corpus; false when it does not, or when the check could not be made. */
export type BreachedPasswordCheck = (password: string) => Promise<boolean>

export const DEFAULT_BREACH_TIMEOUT_MS = 2000

/**
 * Only the first five hex digits of the password's SHA-1 leave the process; the answer lists every
 * known suffix of that prefix as `SUFFIX:COUNT` lines, and the match is made here. `Add-Padding`
 * asks for decoy lines (count 0) so that the answer's size says nothing either. The check fails
 * open: a service that is down, slow or answers nonsense must not stop people from registering or
 * resetting their password, so it logs a warning and lets the password through (the other rules
 * still apply).
 */
export function createBreachedPasswordCheck (options: BreachedPasswordCheckOptions): BreachedPasswordCheck {
  const base = options.url.replace(/\/+$/, '')
  const timeoutMs = options.timeoutMs ?? DEFAULT_BREACH_TIMEOUT_MS
  return async (password) => {
    const digest = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase()
    const prefix = digest.slice(0, 5)
    const suffix = digest.slice(5)
    let body: string
    try {
      const response = await fetch(`${base}/range/${prefix}`, {
        headers: { 'add-padding': 'true', 'user-agent': 'portcullis' },
        signal: AbortSignal.timeout(timeoutMs)
      })
      if (!response.ok) {
        await response.body?.cancel()
        throw new Error(`the service answered ${response.status}`)
      }
      body = await response.text()
    } catch (err) {
      options.warn(err, 'the breached-password check failed: the password was accepted without it')
      return false
    }
    for (const line of body.split('\n')) {
      const [candidate, count] = line.trim().split(':')
      if (candidate?.toUpperCase() === suffix && Number(count) > 0) return true
    }
    return false
  }
}
