// Maps the rows of either database's drizzle schema to the plain records of db/repositories.ts: the
// tables have the same columns in both, and a row carries more than the record (the username key,
// the revocation reason), so the fields are picked one by one.
import type { DeliveryRecord, DeliveryStatus, PasskeyRecord, SessionRecord, UserRecord, WebhookRecord } from './repositories.js'

export function toUser (row: UserRecord): UserRecord {
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
    lastLogin: row.lastLogin,
    legacyId: row.legacyId ?? null
  }
}

export function toSession (row: Omit<SessionRecord, 'amr'> & { amr: string }): SessionRecord {
  return {
    id: row.id,
    userId: row.userId,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    userAgent: row.userAgent,
    ip: row.ip,
    amr: row.amr.split(' ')
  }
}

export function toWebhook (row: { id: string, url: string, events: string, description: string | null, createdAt: Date }): WebhookRecord {
  return { id: row.id, url: row.url, events: JSON.parse(row.events) as string[], description: row.description, createdAt: row.createdAt }
}

export function toDelivery (row: Omit<DeliveryRecord, 'status'> & { status: string }): DeliveryRecord {
  return {
    id: row.id,
    webhookId: row.webhookId,
    eventSeq: row.eventSeq,
    eventId: row.eventId,
    type: row.type,
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    lastError: row.lastError,
    nextAttemptAt: row.nextAttemptAt
  }
}

/** A passkey row: its transports are stored as a JSON array (anything else reads as none). */
export function toPasskey (row: Omit<PasskeyRecord, 'transports'> & { transports: string }): PasskeyRecord {
  return { ...row, transports: parseTransports(row.transports) }
}

function parseTransports (stored: string): string[] {
  try {
    const parsed: unknown = JSON.parse(stored)
    return Array.isArray(parsed) ? parsed.filter((value): value is string => typeof value === 'string') : []
  } catch {
    return []
  }
}
