// The Django databases and tokens made by real Django (test/django/fixtures/make-fixtures.py), for the Django tests.
import { copyFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'

const directory = fileURLToPath(new URL('./fixtures/', import.meta.url))

export interface FixtureUser { id: number, email: string, password: string | null, hash: string }
export interface Fixture {
  password: string
  secret_key: string
  default: { users: Record<string, FixtureUser>, tokens: { refresh: string, refresh2: string, access: string, user: string } }
  custom: { users: Record<string, FixtureUser> }
  conflicts: { users: Record<string, FixtureUser> }
  /** The default database's users as Django made them on PostgreSQL (django-postgres.sql): other salts, so other hashes. */
  postgres: { users: Record<string, FixtureUser> }
}

export const fixture: Fixture = JSON.parse(readFileSync(join(directory, 'fixture.json'), 'utf8'))

/** The usernames of the users with a usable password of each hash format, in the default database. */
export const HASH_FORMATS = ['pbkdf2', 'pbkdf2_600k', 'pbkdf2_sha1', 'bcrypt_sha256', 'bcrypt', 'argon2id', 'argon2i', 'scrypt'] as const

/** A copy of a fixture database in the test's directory: the import only reads it, but a test never risks the committed file. */
export function djangoDatabase (t: Test, name: 'django' | 'django-custom-user' | 'django-conflicts' = 'django'): string {
  const copy = join(t.testdir(), `${name}.sqlite3`)
  copyFileSync(join(directory, `${name}.sqlite3`), copy)
  return copy
}
