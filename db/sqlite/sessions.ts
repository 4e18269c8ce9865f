// The sessions and refresh-tokens repository on SQLite.
// better-sqlite3 is synchronous: each transaction below runs to completion without yielding, so a
// rotation is atomic within this process; `immediate` takes the write lock up front so that two
// processes sharing the file serialise too.
import { and, desc, eq, gt, inArray, isNull, lt, ne, or, sql } from 'drizzle-orm'
import type { NewSession, RotationOutcome, RotationRequest, SessionRepository } from '../repositories.js'
import { refreshTokens, sessions, users } from '../schema.js'
import type { SqliteDb } from './connection.js'
import { toSession, toUser } from './records.js'

export function sqliteSessionRepository (db: SqliteDb): SessionRepository {
  const sessionWithUser = db.select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, sql.placeholder('id')))
    .prepare()

  const tokenWithSession = db.select({ token: refreshTokens, session: sessions, user: users })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(refreshTokens.tokenHash, sql.placeholder('hash')))
    .prepare()

  function rotateNow (request: RotationRequest): RotationOutcome {
    const { now, successor } = request
    const found = tokenWithSession.get({ hash: request.tokenHash })
    if (!found) return { kind: 'invalid' }
    const { token, session, user } = found
    if (session.revokedAt !== null || token.expiresAt <= now || session.expiresAt <= now) {
      return { kind: 'invalid' }
    }

    if (token.rotatedAt === null) {
      db.update(refreshTokens)
        .set({ rotatedAt: now, successorId: successor.id, successorSealed: successor.sealed })
        .where(eq(refreshTokens.id, token.id))
        .run()
      db.insert(refreshTokens).values({
        id: successor.id,
        sessionId: session.id,
        tokenHash: successor.tokenHash,
        parentId: token.id,
        createdAt: now,
        expiresAt: successor.expiresAt
      }).run()
      const updated = db.update(sessions)
        .set({ lastUsedAt: now, expiresAt: successor.expiresAt, ip: request.ip, userAgent: request.userAgent })
        .where(eq(sessions.id, session.id))
        .returning()
        .get()
      return { kind: 'rotated', session: toSession(updated), user: toUser(user) }
    }

    // A zero grace window means none: a replay in the same millisecond is reuse too.
    const withinGrace = request.graceMs > 0 && now.getTime() - token.rotatedAt.getTime() <= request.graceMs
    if (withinGrace && token.successorId !== null && token.successorSealed !== null) {
      const next = db.select().from(refreshTokens).where(eq(refreshTokens.id, token.successorId)).get()
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
    db.update(sessions)
      .set({ revokedAt: now, revokedReason: 'refresh_token_reuse' })
      .where(eq(sessions.id, session.id))
      .run()
    return { kind: 'reused', sessionId: session.id }
  }

  return {
    async create (input: NewSession) {
      const { firstToken, ...session } = input
      return db.transaction(tx => {
        const row = tx.insert(sessions).values({
          ...session,
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
        return toSession(row)
      }, { behavior: 'immediate' })
    },

    async findWithUser (sessionId) {
      const row = sessionWithUser.get({ id: sessionId })
      return row && { session: toSession(row.session), user: toUser(row.user) }
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
      return db.transaction(() => rotateNow(request), { behavior: 'immediate' })
    },

    async listLive (userId, now) {
      const rows = db.select().from(sessions)
        .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
        .orderBy(desc(sessions.lastUsedAt))
        .all()
      return rows.map(toSession)
    },

    async revoke (userId, sessionId, now, reason) {
      const result = db.update(sessions)
        .set({ revokedAt: now, revokedReason: reason })
        .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
        .run()
      return result.changes > 0
    },

    async revokeAll (userId, now, reason, keepSessionId) {
      const conditions = [eq(sessions.userId, userId), isNull(sessions.revokedAt)]
      if (keepSessionId !== undefined) conditions.push(ne(sessions.id, keepSessionId))
      const result = db.update(sessions).set({ revokedAt: now, revokedReason: reason }).where(and(...conditions)).run()
      return result.changes
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
