// The key a shared store (Redis, the database) keeps a counter under.
import { createHash } from 'node:crypto'

/**
 * A digest of the counter's key, never the key itself: keys hold what a client typed as its login
 * (sometimes a password typed into the wrong field) and target email addresses, which should not
 * sit in clear in a store other processes and operators read. The digest also bounds the key's length.
 */
export function sharedKey (key: string): string {
  return createHash('sha256').update(key).digest('base64url')
}
