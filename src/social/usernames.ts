// A username for an account created by a provider login: the provider's login, made valid and unique.
import { randomBytes } from 'node:crypto'

const MAX_BASE = 30

/** Keeps what the Username schema allows (letters, digits, `_ . @ + -`); anything else becomes `_`. */
export function usernameBase (preferred: string | null): string {
  const cleaned = (preferred ?? '').normalize('NFKC').replace(/[^\p{L}\p{N}_.@+-]/gu, '_').replace(/_+/g, '_').slice(0, MAX_BASE)
  return /[\p{L}\p{N}]/u.test(cleaned) ? cleaned : 'user'
}

/** `ada`, then `ada2` … `ada9`, then `ada_` with random hex: the first few stay readable, the rest cannot collide for long. */
export function * usernameCandidates (base: string): Generator<string> {
  yield base
  for (let n = 2; n <= 9; n++) yield `${base}${n}`
  while (true) yield `${base}_${randomBytes(3).toString('hex')}`
}
