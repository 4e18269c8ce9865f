// The sessions and refresh-tokens repository on SQLite.
// better-sqlite3 is synchronous: each transaction below runs to completion without yielding, so a
// rotation is atomic within this process; `immediate` takes the write lock up front so that two
// processes sharing the file serialise too. The writes of a login, a refresh and a logout go through
// the group commit (group-commit.ts): those arriving together share one transaction and one fsync,
// each in its own savepoint, and are acknowledged only once it committed.
import { and, desc, eq, gt, inArray, isNull, lt, ne, or, sql } from 'drizzle-orm'
import { AccountChanged, type NewSession, type RotationOutcome, type RotationRequest, type SessionRepository } from '../repositories.js'
import { refreshTokens, sessions, users } from './schema.js'
import type { SqliteDb } from './connection.js'
import { authorizationColumns, splitList } from './authorization.js'
import { toSession, toUser } from '../records.js'
import { revocationRecorder } from './revocations.js'
import { auditRecorder } from './audit.js'
import { accountUnchanged, passwordHashIs } from '../account-conditions.js'
import { groupCommit, type GroupCommit } from './group-commit.js'

/** The columns of the authentication query, in order. */
type AuthStateRow = [
  id: string, email: string, username: string, isActive: number, isStaff: number, isSuperuser: number,
  isBanned: number, bannedUntil: number | null, emailVerified: number, dateJoined: number, lastLogin: number | null,
  revokedAt: number | null, expiresAt: number, groupNames: string | null, permissionCodenames: string | null,
  providers: string | null
]

export function sqliteSessionRepository (db: SqliteDb, commits: GroupCommit = groupCommit(db.$client)): SessionRepository {
  // The hot path of every authenticated request: raw SQL, only the columns it needs, rows as arrays.
  const authState = db.$client.prepare<[string], AuthStateRow>(`
    SELECT u.id, u.email, u.username, u.is_active, u.is_staff, u.is_superuser, u.is_banned, u.banned_until,
           u.email_verified, u.date_joined, u.last_login, s.revoked_at, s.expires_at,
           ${authorizationColumns('u')},
           (SELECT group_concat(provider, char(31)) FROM social_accounts sa WHERE sa.user_id = u.id) AS providers
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = ?`).raw()

  const tokenWithSession = db.select({ token: refreshTokens, session: sessions, user: users })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(refreshTokens.tokenHash, sql.placeholder('hash')))
    .prepare()

  // Every revocation below writes its feed event in the same transaction, so none can be forgotten.
  const record = revocationRecorder(db)
  const audit = auditRecorder(db)

  // Prepared once: rotation runs on every refresh, and building statements per call cost more than running them.
  const client = db.$client
  const statements = {
    markRotated: client.prepare('UPDATE refresh_tokens SET rotated_at = ?, successor_id = ?, successor_sealed = ? WHERE id = ?'),
    insertToken: client.prepare('INSERT INTO refresh_tokens (id, session_id, token_hash, parent_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)'),
    touchSession: client.prepare('UPDATE sessions SET last_used_at = ?, expires_at = ?, ip = ?, user_agent = ? WHERE id = ?'),
    tokenState: client.prepare<[string], { rotated_at: number | null, expires_at: number }>('SELECT rotated_at, expires_at FROM refresh_tokens WHERE id = ?'),
    revokeSession: client.prepare('UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ?')
  }

  function rotateNow (request: RotationRequest): RotationOutcome {
    const { now, successor } = request
    const found = tokenWithSession.get({ hash: request.tokenHash })
    if (!found) return { kind: 'invalid' }
    const { token, session, user } = found
    if (session.revokedAt !== null || token.expiresAt <= now || session.expiresAt <= now) {
      return { kind: 'invalid' }
    }

    if (token.rotatedAt === null) {
      statements.markRotated.run(now.getTime(), successor.id, successor.sealed, token.id)
      statements.insertToken.run(successor.id, session.id, successor.tokenHash, token.id, now.getTime(), successor.expiresAt.getTime())
      statements.touchSession.run(now.getTime(), successor.expiresAt.getTime(), request.ip, request.userAgent, session.id)
      const updated = { ...toSession(session), lastUsedAt: now, expiresAt: successor.expiresAt, ip: request.ip, userAgent: request.userAgent }
      return { kind: 'rotated', session: updated, user: toUser(user) }
    }

    // A zero grace window means none: a replay in the same millisecond is reuse too.
    const withinGrace = request.graceMs > 0 && now.getTime() - token.rotatedAt.getTime() <= request.graceMs
    if (withinGrace && token.successorId !== null && token.successorSealed !== null) {
      const next = statements.tokenState.get(token.successorId)
      if (next !== undefined && next.rotated_at === null && next.expires_at > now.getTime()) {
        return {
          kind: 'replayed',
          session: toSession(session),
          user: toUser(user),
          sealedSuccessor: token.successorSealed,
          successorExpiresAt: new Date(next.expires_at)
        }
      }
    }

    // A rotated-away token came back: whoever holds the chain may be a thief, so end it.
    statements.revokeSession.run(now.getTime(), 'refresh_token_reuse', session.id)
    record.session(session.id, now)
    if (request.onReuse !== undefined) audit.append([request.onReuse(session.userId)])
    return { kind: 'reused', sessionId: session.id }
  }

  /** Revokes the user's live sessions but `keepSessionId`, with their feed events; inside a transaction. */
  function revokeAllNow (tx: Pick<SqliteDb, 'update'>, userId: string, now: Date, reason: string, keepSessionId?: string): number {
    if (keepSessionId === undefined) {
      // Every token of the user dies: one "not before" for the user covers them all, and tokens
      // of sessions that are already gone.
      record.subject(userId, now)
      return tx.update(sessions).set({ revokedAt: now, revokedReason: reason })
        .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt))).run().changes
    }
    // One session stays (a password change): the feed names the others, not the user.
    const revoked = tx.update(sessions).set({ revokedAt: now, revokedReason: reason })
      .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), ne(sessions.id, keepSessionId)))
      .returning({ id: sessions.id }).all()
    for (const { id } of revoked) record.session(id, now)
    return revoked.length
  }

  return {
    async create (input: NewSession) {
      const { firstToken, upgradedPasswordHash, expect, events = [], ...session } = input
      return commits.run(() => db.transaction(tx => {
        // Compare-and-set: the write lock is held from BEGIN IMMEDIATE, so the row checked here is
        // the row the session is created against.
        const matched = tx.update(users)
          .set({ lastLogin: session.createdAt, ...(upgradedPasswordHash !== undefined && { passwordHash: upgradedPasswordHash }) })
          .where(and(eq(users.id, session.userId), expect && accountUnchanged(users, expect)))
          .run().changes
        if (expect !== undefined && matched === 0) throw new AccountChanged()
        const row = tx.insert(sessions).values({
          ...session,
          amr: (session.amr ?? ['pwd']).join(' '),
          lastUsedAt: session.createdAt,
          expiresAt: firstToken.expiresAt
        }).returning().get()
        tx.insert(refreshTokens).values({
          id: firstToken.id,
          sessionId: session.id,
          tokenHash: firstToken.tokenHash,
          createdAt: session.createdAt,
          expiresAt: firstToken.expiresAt
        }).run()
        audit.append(events)
        return toSession(row)
      }, { behavior: 'immediate' }))
    },

    async findAuthState (sessionId) {
      const row = authState.get(sessionId) as unknown as AuthStateRow | undefined
      if (row === undefined) return undefined
      const [id, email, username, isActive, isStaff, isSuperuser, isBanned, bannedUntil, emailVerified, dateJoined, lastLogin, revokedAt, expiresAt, groupNames, permissionCodenames, providers] = row
      return {
        session: { id: sessionId, revokedAt: revokedAt === null ? null : new Date(revokedAt), expiresAt: new Date(expiresAt) },
        user: {
          id,
          email,
          username,
          isActive: isActive === 1,
          isStaff: isStaff === 1,
          isSuperuser: isSuperuser === 1,
          isBanned: isBanned === 1,
          bannedUntil: bannedUntil === null ? null : new Date(bannedUntil),
          emailVerified: emailVerified === 1,
          dateJoined: new Date(dateJoined),
          lastLogin: lastLogin === null ? null : new Date(lastLogin)
        },
        authorization: { groups: splitList(groupNames), permissions: splitList(permissionCodenames) },
        providers: splitList(providers)
      }
    },

    async findByTokenHash (tokenHash) {
      const row = tokenWithSession.get({ hash: tokenHash })
      if (!row) return undefined
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
      // One savepoint of the shared transaction: the reads and writes of a rotation see no other
      // rotation half-done (the flush runs every unit to completion, one after the other).
      return commits.run(() => rotateNow(request))
    },

    async listLive (userId, now) {
      const rows = db.select().from(sessions)
        .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
        .orderBy(desc(sessions.lastUsedAt))
        .all()
      return rows.map(toSession)
    },

    async raiseAuthentication (userId, sessionId, amr, now) {
      return db.update(sessions).set({ amr: amr.join(' ') })
        .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
        .run().changes > 0
    },

    async revoke (userId, sessionId, now, reason, events = []) {
      return commits.run(() => db.transaction(tx => {
        const result = tx.update(sessions)
          .set({ revokedAt: now, revokedReason: reason })
          .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
          .run()
        if (result.changes > 0) {
          record.session(sessionId, now)
          audit.append(events)
        }
        return result.changes > 0
      }, { behavior: 'immediate' }))
    },

    async revokeAll (userId, now, reason, keepSessionId, events = []) {
      return db.transaction(tx => {
        const revoked = revokeAllNow(tx, userId, now, reason, keepSessionId)
        // As for one session: no event when nothing was live.
        if (revoked > 0) audit.append(events)
        return revoked
      }, { behavior: 'immediate' })
    },

    async updateUserAndRevoke (userId, change) {
      return db.transaction(tx => {
        const { expectedPasswordHash } = change
        const row = tx.update(users).set(change.patch)
          .where(and(eq(users.id, userId), expectedPasswordHash === undefined ? undefined : passwordHashIs(users, expectedPasswordHash)))
          .returning().get()
        if (row === undefined) return undefined
        const revoked = revokeAllNow(tx, userId, change.now, change.reason, change.keepSessionId)
        audit.append(change.events ?? [])
        return { user: toUser(row), revoked }
      }, { behavior: 'immediate' })
    },

    async prune (now, revokedBefore, limit) {
      const deadSessions = db.select({ id: sessions.id }).from(sessions)
        .where(or(lt(sessions.expiresAt, now), lt(sessions.revokedAt, revokedBefore)))
        .limit(limit)
      const sessionsDeleted = db.delete(sessions).where(inArray(sessions.id, deadSessions)).run().changes
      const deadTokens = db.select({ id: refreshTokens.id }).from(refreshTokens)
        .where(lt(refreshTokens.expiresAt, now))
        .limit(limit)
      const tokensDeleted = db.delete(refreshTokens).where(inArray(refreshTokens.id, deadTokens)).run().changes
      return sessionsDeleted + tokensDeleted
    }
  }
}
