// Maps drizzle rows of the PostgreSQL schema to the plain records of db/repositories.ts.
import type { SessionRecord, UserRecord } from '../repositories.js'
import type { sessions, users } from './schema.js'

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
