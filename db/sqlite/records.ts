// Maps drizzle rows to the plain records of db/repositories.ts.
import type { SessionRecord, UserRecord } from '../repositories.js'
import type { sessions, users } from '../schema.js'

export function toUser (row: typeof users.$inferSelect): UserRecord {
  return {
    id: row.id,
    email: row.email,
    username: row.username,
    passwordHash: row.passwordHash,
    isActive: row.isActive,
    isStaff: row.isStaff,
    isSuperuser: row.isSuperuser,
    isBanned: row.isBanned,
    banReason: row.banReason,
    bannedUntil: row.bannedUntil,
    emailVerified: row.emailVerified,
    dateJoined: row.dateJoined,
    lastLogin: row.lastLogin
  }
}

export function toSession (row: typeof sessions.$inferSelect): SessionRecord {
  return {
    id: row.id,
    userId: row.userId,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    userAgent: row.userAgent,
    ip: row.ip
  }
}

/** A users row as better-sqlite3 returns it from raw SQL: snake_case, integers for booleans and times. */
export interface RawUserRow {
  id: string
  email: string
  username: string
  password_hash: string | null
  is_active: number
  is_staff: number
  is_superuser: number
  is_banned: number
  ban_reason: string | null
  banned_until: number | null
  email_verified: number
  date_joined: number
  last_login: number | null
}

const toDate = (ms: number | null): Date | null => ms === null ? null : new Date(ms)

export function userFromRaw (row: RawUserRow): UserRecord {
  return {
    id: row.id,
    email: row.email,
    username: row.username,
    passwordHash: row.password_hash,
    isActive: row.is_active === 1,
    isStaff: row.is_staff === 1,
    isSuperuser: row.is_superuser === 1,
    isBanned: row.is_banned === 1,
    banReason: row.ban_reason,
    bannedUntil: toDate(row.banned_until),
    emailVerified: row.email_verified === 1,
    dateJoined: new Date(row.date_joined),
    lastLogin: toDate(row.last_login)
  }
}
