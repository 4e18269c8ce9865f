// The users repository on SQLite.
import { and, desc, eq, lt, or, sql } from 'drizzle-orm'
import { usernameKey } from '../username-key.js'
import { UniqueViolation, type NewUser, type UserPatch, type UserRecord, type UserRepository } from '../repositories.js'
import { users } from './schema.js'
import type { SqliteDb } from './connection.js'
import { toUser } from '../records.js'
import { revocationRecorder } from './revocations.js'
import { auditRecorder } from './audit.js'

/** Turns SQLite's unique-constraint failure on users into a UniqueViolation naming the field. */
export function rethrowUnique (err: unknown): never {
  const cause = (err as { cause?: unknown }).cause ?? err
  const message = String((cause as Error).message ?? '')
  if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
    if (message.includes('users.email')) throw new UniqueViolation('email')
    if (message.includes('users.username_key')) throw new UniqueViolation('username')
  }
  throw err
}

export function sqliteUserRepository (db: SqliteDb): UserRepository {
  const byId = db.select().from(users).where(eq(users.id, sql.placeholder('id'))).prepare()
  const byEmail = db.select().from(users).where(eq(users.email, sql.placeholder('email'))).prepare()
  const byUsernameKey = db.select().from(users).where(eq(users.usernameKey, sql.placeholder('key'))).prepare()
  const record = revocationRecorder(db)
  const audit = auditRecorder(db)

  return {
    async create (user: NewUser, events = []): Promise<UserRecord> {
      try {
        return db.transaction(tx => {
          const row = tx.insert(users).values({ ...user, usernameKey: usernameKey(user.username) }).returning().get()
          audit.append(events)
          return toUser(row)
        }, { behavior: 'immediate' })
      } catch (err) {
        rethrowUnique(err)
      }
    },

    async findById (id) {
      const row = byId.get({ id })
      return row && toUser(row)
    },

    async findByEmail (email) {
      const row = byEmail.get({ email })
      return row && toUser(row)
    },

    async findByUsername (username) {
      const row = byUsernameKey.get({ key: usernameKey(username) })
      return row && toUser(row)
    },

    async list ({ query, limit, after }) {
      const conditions = []
      if (query !== undefined && query !== '') {
        // LIKE with the wildcards of the query escaped: "a_b" matches "a_b", not "axb".
        const like = (text: string) => `%${text.replace(/[\\%_]/g, c => `\\${c}`)}%`
        // Usernames through their key (case-folded in JS): SQLite's lower() folds ASCII only, so "Ünal" would not find "Ünal".
        conditions.push(or(sql`${users.email} LIKE ${like(query.toLowerCase())} ESCAPE '\\'`, sql`${users.usernameKey} LIKE ${like(usernameKey(query))} ESCAPE '\\'`))
      }
      if (after !== undefined) {
        conditions.push(or(lt(users.dateJoined, after.dateJoined), and(eq(users.dateJoined, after.dateJoined), lt(users.id, after.id))))
      }
      const rows = db.select().from(users).where(and(...conditions)).orderBy(desc(users.dateJoined), desc(users.id)).limit(limit).all()
      return rows.map(toUser)
    },

    async delete (id, now, events = []) {
      // The feed event is written before the cascade removes the sessions, in the same transaction.
      return db.transaction(tx => {
        const deleted = tx.delete(users).where(eq(users.id, id)).run().changes > 0
        if (deleted) {
          record.subject(id, now)
          audit.append(events)
        }
        return deleted
      }, { behavior: 'immediate' })
    },

    async update (id: string, patch: UserPatch, events = []) {
      if (Object.keys(patch).length === 0) return this.findById(id)
      const values = patch.username === undefined ? patch : { ...patch, usernameKey: usernameKey(patch.username) }
      try {
        return db.transaction(tx => {
          const row = tx.update(users).set(values).where(eq(users.id, id)).returning().get()
          if (row !== undefined) audit.append(events)
          return row && toUser(row)
        }, { behavior: 'immediate' })
      } catch (err) {
        rethrowUnique(err)
      }
    }
  }
}
