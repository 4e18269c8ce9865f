// The normal form under which usernames are unique: storage indexes it, the domain looks users up by it.

/** Usernames keep their case for display but are unique and looked up case-insensitively. */
export function usernameKey (username: string): string {
  return username.normalize('NFKC').toLowerCase()
}
