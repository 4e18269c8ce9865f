// The users repository on PostgreSQL.
import { and, desc, eq, lt, or, sql } from 'drizzle-orm'
import { usernameKey } from '../username-key.js'
import { UniqueViolation, type NewUser, type UserPatch, type UserRecord, type UserRepository } from '../repositories.js'
import { users } from './schema.js'
import { hasNul, inTransaction, uniqueConstraint, type PgDb } from './database.js'
import { toUser } from '../records.js'
import { appendRevocationEvent } from './revocation-events.js'
import { appendAuditEvents } from './audit-events.js'

/** Turns a unique violation on users into a UniqueViolation naming the field; anything else is rethrown. */
export function rethrowUnique (err: unknown): never {
  const constraint = uniqueConstraint(err)
  if (constraint === 'users_email_unique') throw new UniqueViolation('email')
  if (constraint === 'users_username_key_unique') throw new UniqueViolation('username')
  throw err
}

/** A LIKE pattern matching `text` anywhere, its wildcards escaped: "a_b" matches "a_b", not "axb". */
function containing (text: string): string {
  return `%${text.replace(/[\\%_]/g, c => `\\${c}`)}%`
}

export function postgresUserRepository (db: PgDb): UserRepository {
  const byId = db.select().from(users).where(eq(users.id, sql.placeholder('id'))).prepare('users.by_id')
  const byEmail = db.select().from(users).where(eq(users.email, sql.placeholder('email'))).prepare('users.by_email')
  const byUsernameKey = db.select().from(users).where(eq(users.usernameKey, sql.placeholder('key'))).prepare('users.by_username_key')

  return {
    async create (user: NewUser, events = []): Promise<UserRecord> {
      try {
        // Concurrent registrations of one address: the unique index makes all but one wait for the
        // first to commit and then fail, which is a UniqueViolation, never a 500.
        return await inTransaction(db, async tx => {
          const [row] = await tx.insert(users).values({ ...user, usernameKey: usernameKey(user.username) }).returning()
          await appendAuditEvents(tx, events)
          return toUser(row)
        })
      } catch (err) {
        rethrowUnique(err)
      }
    },

    async findById (id) {
      if (hasNul(id)) return
      const [row] = await byId.execute({ id })
      return row && toUser(row)
    },

    async findByEmail (email) {
      if (hasNul(email)) return
      const [row] = await byEmail.execute({ email })
      return row && toUser(row)
    },

    async findByUsername (username) {
      if (hasNul(username)) return
      const [row] = await byUsernameKey.execute({ key: usernameKey(username) })
      return row && toUser(row)
    },

    async list ({ query, limit, after }) {
      if (query !== undefined && hasNul(query)) return []
      const conditions = []
      if (query !== undefined && query !== '') {
        // Emails are stored lower-cased and usernames matched through their key (folded in JS, as
        // SQLite does), so both databases find the same users. standard_conforming_strings is on:
        // '\' is one backslash, the escape character of containing().
        conditions.push(or(
          sql`${users.email} LIKE ${containing(query.toLowerCase())} ESCAPE '\\'`,
          sql`${users.usernameKey} LIKE ${containing(usernameKey(query))} ESCAPE '\\'`
        ))
      }
      if (after !== undefined) {
        conditions.push(or(lt(users.dateJoined, after.dateJoined), and(eq(users.dateJoined, after.dateJoined), lt(users.id, after.id))))
      }
      const rows = await db.select().from(users).where(and(...conditions)).orderBy(desc(users.dateJoined), desc(users.id)).limit(limit)
      return rows.map(toUser)
    },

    async delete (id, now, events = []) {
      if (hasNul(id)) return false
      // The delete (its cascade takes sessions, tokens, memberships) and the feed event commit together.
      return inTransaction(db, async tx => {
        const deleted = await tx.delete(users).where(eq(users.id, id)).returning({ id: users.id })
        if (deleted.length === 0) return false
        await appendRevocationEvent(tx, { subject: id }, now)
        await appendAuditEvents(tx, events)
        return true
      })
    },

    async update (id: string, patch: UserPatch, events = []) {
      if (hasNul(id)) return
      if (Object.keys(patch).length === 0) return this.findById(id)
      const values = patch.username === undefined ? patch : { ...patch, usernameKey: usernameKey(patch.username) }
      try {
        return await inTransaction(db, async tx => {
          const [row] = await tx.update(users).set(values).where(eq(users.id, id)).returning()
          if (row === undefined) return undefined
          await appendAuditEvents(tx, events)
          return toUser(row)
        })
      } catch (err) {
        rethrowUnique(err)
      }
    }
  }
}
