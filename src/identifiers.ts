// Normal forms of the user's identifiers, shared by validation and storage.

/** Emails are compared and stored trimmed and lower-cased. */
export function normaliseEmail (email: string): string {
  return email.trim().toLowerCase()
}

/** Usernames keep their case for display but are unique and looked up case-insensitively. */
export function usernameKey (username: string): string {
  return username.normalize('NFKC').toLowerCase()
}

/** Trims a body's `email` before validation, so " Ada@Example.com " is accepted as ada@example.com. */
export function trimEmailField (body: unknown): void {
  if (body !== null && typeof body === 'object' && typeof (body as { email?: unknown }).email === 'string') {
    const record = body as { email: string }
    record.email = record.email.trim()
  }
}
