// Normal forms of the user's identifiers, shared by validation and storage.

/** Emails are compared and stored trimmed and lower-cased. */
export function normaliseEmail (email: string): string {
  return email.trim().toLowerCase()
}

// Storage owns the username key (its unique index is built on it); the domain uses the same function.
export { usernameKey } from '../../db/username-key.js'

/** Trims a body's `email` before validation, so " Ada@Example.com " is accepted as ada@example.com. */
export function trimEmailField (body: unknown): void {
  if (body !== null && typeof body === 'object' && typeof (body as { email?: unknown }).email === 'string') {
    const record = body as { email: string }
    record.email = record.email.trim()
  }
}
