// The compare-and-set conditions on a user row that logins and password writes share, for either
// database's drizzle schema (the columns have the same names in both).
import { and, eq, isNull, type Column, type SQL } from 'drizzle-orm'
import type { LoginPrecondition } from './repositories.js'

interface AccountColumns {
  passwordHash: Column
  isActive: Column
  isBanned: Column
  bannedUntil: Column
}

/** The stored password hash is still `hash` (none, for null). */
export function passwordHashIs (columns: AccountColumns, hash: string | null): SQL {
  return hash === null ? isNull(columns.passwordHash) : eq(columns.passwordHash, hash)
}

/** The user row still says what the login checked: its password hash (when one was verified), activity and ban. */
export function accountUnchanged (columns: AccountColumns, expect: LoginPrecondition): SQL {
  return and(
    ...(expect.passwordHash !== undefined ? [passwordHashIs(columns, expect.passwordHash)] : []),
    eq(columns.isActive, expect.isActive),
    eq(columns.isBanned, expect.isBanned),
    expect.bannedUntil === null ? isNull(columns.bannedUntil) : eq(columns.bannedUntil, expect.bannedUntil)
  ) as SQL
}
