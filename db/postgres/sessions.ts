// The sessions and refresh-tokens repository on PostgreSQL. Several instances share the database, so
// a rotation locks the presented token's row (and its session's) before deciding: concurrent
// rotations of one token serialise on that lock, and each sees what the one before it committed.
import { and, desc, eq, gt, inArray, isNull, lt, ne, or } from 'drizzle-orm'
import { AccountChanged, type NewSession, type RotationOutcome, type RotationRequest, type SessionRepository } from '../repositories.js'
import { refreshTokens, sessions, users } from './schema.js'
import { hasNul, inTransaction, type PgDb, type PgTx } from './database.js'
import { toSession, toUser } from '../records.js'
import { appendRevocationEvent } from './revocation-events.js'
import { appendAuditEvents } from './audit-events.js'
import { accountUnchanged, passwordHashIs } from '../account-conditions.js'

/** Revokes the user's live sessions but `keepSessionId`, with their feed events, in `tx`. */
async function revokeAllIn (tx: PgTx, userId: string, now: Date, reason: string, keepSessionId?: string): Promise<number> {
  if (keepSessionId === undefined) {
    const revoked = await tx.update(sessions).set({ revokedAt: now, revokedReason: reason })
      .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
      .returning({ id: sessions.id })
    // Every token of the user dies: one "not before" for the user covers them all, and tokens
    // of sessions that are already gone.
    await appendRevocationEvent(tx, { subject: userId }, now)
    return revoked.length
  }
  // One session stays (a password change): the feed names the others, not the user.
  const revoked = await tx.update(sessions).set({ revokedAt: now, revokedReason: reason })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), ne(sessions.id, keepSessionId)))
    .returning({ id: sessions.id })
  for (const { id } of revoked) await appendRevocationEvent(tx, { sessionId: id }, now)
  return revoked.length
}

/** The columns of the authentication query, in order. */
type AuthStateRow = [
  id: string, email: string, username: string, isActive: boolean, isStaff: boolean, isSuperuser: boolean,
  isBanned: boolean, bannedUntil: Date | null, emailVerified: boolean, dateJoined: Date, lastLogin: Date | null,
  revokedAt: Date | null, expiresAt: Date, groups: string[], permissions: string[], providers: string[]
]

// The hot path of every authenticated request: one statement (user, session, groups, effective
// permissions, providers as arrays), prepared once per connection under its name. Sent through pg
// itself, whose default parsers give Dates, booleans and string arrays; sorted in JS as SQLite's are.
const AUTH_STATE = {
  name: 'sessions.auth_state',
  text: `
    SELECT u.id, u.email, u.username, u.is_active, u.is_staff, u.is_superuser, u.is_banned, u.banned_until,
           u.email_verified, u.date_joined, u.last_login, s.revoked_at, s.expires_at,
           ARRAY(SELECT g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = u.id),
           CASE WHEN u.is_superuser THEN ARRAY(SELECT p.codename FROM permissions p)
                ELSE ARRAY(SELECT up.codename FROM user_permissions up WHERE up.user_id = u.id
                           UNION
                           SELECT gp.codename FROM user_groups ug JOIN group_permissions gp ON gp.group_id = ug.group_id
                            WHERE ug.user_id = u.id)
           END,
           ARRAY(SELECT sa.provider FROM social_accounts sa WHERE sa.user_id = u.id)
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1`,
  rowMode: 'array' as const
}

export function postgresSessionRepository (db: PgDb): SessionRepository {
  const tokenWithSession = (executor: PgDb | PgTx, tokenHash: string) => executor
    .select({ token: refreshTokens, session: sessions, user: users })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(refreshTokens.tokenHash, tokenHash))

  async function rotateLocked (tx: PgTx, request: RotationRequest): Promise<RotationOutcome> {
    const { now, successor } = request
    // FOR UPDATE: a second rotation of this token waits here until the first commits, then reads the
    // token as the first left it (rotated), so it can only be a replay or a reuse, never a second
    // rotation. The session is locked too: its revocation and its touch are decided on this row.
    const [found] = await tokenWithSession(tx, request.tokenHash).for('update', { of: [refreshTokens, sessions] })
    if (found === undefined) return { kind: 'invalid' }
    const { token, session, user } = found
    if (session.revokedAt !== null || token.expiresAt <= now || session.expiresAt <= now) {
      return { kind: 'invalid' }
    }

    if (token.rotatedAt === null) {
      await tx.update(refreshTokens)
        .set({ rotatedAt: now, successorId: successor.id, successorSealed: successor.sealed })
        .where(eq(refreshTokens.id, token.id))
      await tx.insert(refreshTokens).values({
        id: successor.id,
        sessionId: session.id,
        tokenHash: successor.tokenHash,
        parentId: token.id,
        createdAt: now,
        expiresAt: successor.expiresAt
      })
      await tx.update(sessions)
        .set({ lastUsedAt: now, expiresAt: successor.expiresAt, ip: request.ip, userAgent: request.userAgent })
        .where(eq(sessions.id, session.id))
      const updated = { ...toSession(session), lastUsedAt: now, expiresAt: successor.expiresAt, ip: request.ip, userAgent: request.userAgent }
      return { kind: 'rotated', session: updated, user: toUser(user) }
    }

    // A zero grace window means none: a replay in the same millisecond is reuse too.
    const withinGrace = request.graceMs > 0 && now.getTime() - token.rotatedAt.getTime() <= request.graceMs
    if (withinGrace && token.successorId !== null && token.successorSealed !== null) {
      const [next] = await tx.select({ rotatedAt: refreshTokens.rotatedAt, expiresAt: refreshTokens.expiresAt })
        .from(refreshTokens).where(eq(refreshTokens.id, token.successorId))
      if (next !== undefined && next.rotatedAt === null && next.expiresAt > now) {
        return {
          kind: 'replayed',
          session: toSession(session),
          user: toUser(user),
          sealedSuccessor: token.successorSealed,
          successorExpiresAt: next.expiresAt
        }
      }
    }

    // A rotated-away token came back: whoever holds the chain may be a thief, so end it.
    await tx.update(sessions).set({ revokedAt: now, revokedReason: 'refresh_token_reuse' }).where(eq(sessions.id, session.id))
    await appendRevocationEvent(tx, { sessionId: session.id }, now)
    if (request.onReuse !== undefined) await appendAuditEvents(tx, [request.onReuse(session.userId)])
    return { kind: 'reused', sessionId: session.id }
  }

  return {
    async create (input: NewSession) {
      const { firstToken, upgradedPasswordHash, expect, events = [], ...session } = input
      return inTransaction(db, async tx => {
        // Compare-and-set: the update locks the user's row, and a password change or ban committed
        // meanwhile (or waited for here) makes its condition false, so no session is created.
        const matched = await tx.update(users)
          .set({ lastLogin: session.createdAt, ...(upgradedPasswordHash !== undefined && { passwordHash: upgradedPasswordHash }) })
          .where(and(eq(users.id, session.userId), expect && accountUnchanged(users, expect)))
          .returning({ id: users.id })
        if (expect !== undefined && matched.length === 0) throw new AccountChanged()
        const [row] = await tx.insert(sessions).values({
          ...session,
          amr: (session.amr ?? ['pwd']).join(' '),
          lastUsedAt: session.createdAt,
          expiresAt: firstToken.expiresAt
        }).returning()
        await tx.insert(refreshTokens).values({
          id: firstToken.id,
          sessionId: session.id,
          tokenHash: firstToken.tokenHash,
          createdAt: session.createdAt,
          expiresAt: firstToken.expiresAt
        })
        await appendAuditEvents(tx, events)
        return toSession(row)
      })
    },

    async findAuthState (sessionId) {
      if (hasNul(sessionId)) return
      const { rows } = await db.$client.query<AuthStateRow>({ ...AUTH_STATE, values: [sessionId] })
      const row = rows[0]
      if (row === undefined) return undefined
      const [id, email, username, isActive, isStaff, isSuperuser, isBanned, bannedUntil, emailVerified, dateJoined, lastLogin, revokedAt, expiresAt, groups, permissions, providers] = row
      return {
        session: { id: sessionId, revokedAt, expiresAt },
        user: { id, email, username, isActive, isStaff, isSuperuser, isBanned, bannedUntil, emailVerified, dateJoined, lastLogin },
        authorization: { groups: groups.sort(), permissions: permissions.sort() },
        providers: providers.sort()
      }
    },

    async findByTokenHash (tokenHash) {
      if (hasNul(tokenHash)) return
      const [row] = await tokenWithSession(db, tokenHash)
      if (row === undefined) return undefined
      const { token } = row
      return {
        token: {
          id: token.id,
          sessionId: token.sessionId,
          parentId: token.parentId,
          createdAt: token.createdAt,
          expiresAt: token.expiresAt,
          rotatedAt: token.rotatedAt
        },
        session: toSession(row.session),
        user: toUser(row.user)
      }
    },

    async rotate (request) {
      // READ COMMITTED (the default) on purpose: a rotation that waited for the lock reads the row
      // as committed, where REPEATABLE READ would fail with a serialization error and start over.
      return inTransaction(db, tx => rotateLocked(tx, request))
    },

    async listLive (userId, now) {
      const rows = await db.select().from(sessions)
        .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
        .orderBy(desc(sessions.lastUsedAt))
      return rows.map(toSession)
    },

    async raiseAuthentication (userId, sessionId, amr, now) {
      if (hasNul(userId, sessionId)) return false
      const raised = await db.update(sessions).set({ amr: amr.join(' ') })
        .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
        .returning({ id: sessions.id })
      return raised.length > 0
    },

    async revoke (userId, sessionId, now, reason, events = []) {
      if (hasNul(userId, sessionId)) return false
      return inTransaction(db, async tx => {
        const revoked = await tx.update(sessions)
          .set({ revokedAt: now, revokedReason: reason })
          .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
          .returning({ id: sessions.id })
        if (revoked.length === 0) return false
        await appendRevocationEvent(tx, { sessionId }, now)
        await appendAuditEvents(tx, events)
        return true
      })
    },

    async revokeAll (userId, now, reason, keepSessionId, events = []) {
      return inTransaction(db, async tx => {
        const revoked = await revokeAllIn(tx, userId, now, reason, keepSessionId)
        // As for one session: no event when nothing was live.
        if (revoked > 0) await appendAuditEvents(tx, events)
        return revoked
      })
    },

    async updateUserAndRevoke (userId, change) {
      if (hasNul(userId) || (change.expectedPasswordHash != null && hasNul(change.expectedPasswordHash))) return undefined
      return inTransaction(db, async tx => {
        const { expectedPasswordHash } = change
        // The row lock of this update is held to the commit: a login's compare-and-set waits for it
        // and then sees the new row.
        const [row] = await tx.update(users).set(change.patch)
          .where(and(eq(users.id, userId), expectedPasswordHash === undefined ? undefined : passwordHashIs(users, expectedPasswordHash)))
          .returning()
        if (row === undefined) return undefined
        const revoked = await revokeAllIn(tx, userId, change.now, change.reason, change.keepSessionId)
        await appendAuditEvents(tx, change.events ?? [])
        return { user: toUser(row), revoked }
      })
    },

    async prune (now, revokedBefore, limit) {
      // SKIP LOCKED: rows a rotation or revocation holds are left for the next pass rather than waited for.
      const sessionsDeleted = await inTransaction(db, async tx => {
        const dead = tx.select({ id: sessions.id }).from(sessions)
          .where(or(lt(sessions.expiresAt, now), lt(sessions.revokedAt, revokedBefore)))
          .limit(limit)
          .for('update', { skipLocked: true })
        return (await tx.delete(sessions).where(inArray(sessions.id, dead))).rowCount ?? 0
      })
      const tokensDeleted = await inTransaction(db, async tx => {
        const dead = tx.select({ id: refreshTokens.id }).from(refreshTokens)
          .where(lt(refreshTokens.expiresAt, now))
          .limit(limit)
          .for('update', { skipLocked: true })
        return (await tx.delete(refreshTokens).where(inArray(refreshTokens.id, dead))).rowCount ?? 0
      })
      return sessionsDeleted + tokensDeleted
    }
  }
}
