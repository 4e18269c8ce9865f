// Groups and permissions on PostgreSQL, and the effective permissions of a user.
import { eq, inArray, sql } from 'drizzle-orm'
import { UniqueViolation, type Authorization, type AuthorizationRepository, type GroupRecord } from '../repositories.js'
import { hasNul, inTransaction, uniqueConstraint, type PgDb, type PgTx } from './database.js'
import { groupPermissions, groups, permissions, userGroups, userPermissions } from './schema.js'
import { appendAuditEvents } from './audit-events.js'

/**
 * Sorted as JavaScript sorts (by UTF-16 code unit), which no PostgreSQL collation promises: the
 * lists come out exactly as SQLite's repository gives them.
 */
export function sortedList (values: string[] | null): string[] {
  return values === null ? [] : [...values].sort()
}

/**
 * SQL for a user's group names and effective permission codenames as text[] columns `group_names`
 * and `permission_codenames` (unsorted: pass them through sortedList). `user` names the users row in
 * the enclosing query (correlated subqueries), so the authentication query can fold them into its
 * single statement.
 */
export function authorizationColumns (user: string): string {
  return `ARRAY(SELECT g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id
                 WHERE ug.user_id = ${user}.id) AS group_names,
          CASE WHEN ${user}.is_superuser THEN ARRAY(SELECT codename FROM permissions)
               ELSE ARRAY(SELECT up.codename FROM user_permissions up WHERE up.user_id = ${user}.id
                          UNION
                          SELECT gp.codename FROM user_groups ug JOIN group_permissions gp ON gp.group_id = ug.group_id
                           WHERE ug.user_id = ${user}.id)
          END AS permission_codenames`
}

interface GroupRow { id: string, name: string, codenames: string[] | null }
type AuthorizationRow = { group_names: string[] | null, permission_codenames: string[] | null } & Record<string, unknown>

const toGroup = (row: GroupRow): GroupRecord => ({ id: row.id, name: row.name, permissions: sortedList(row.codenames) })
const unique = (values: string[]) => [...new Set(values)]

// Lists are ordered COLLATE "C" (by code point), as SQLite's BINARY collation orders them: both
// databases list in the same order, whatever the PostgreSQL database's default collation.
const groupColumns = sql.raw('g.id, g.name, ARRAY(SELECT codename FROM group_permissions gp WHERE gp.group_id = g.id) AS codenames')

function rethrowUnique (err: unknown, field: 'name' | 'codename'): never {
  if (uniqueConstraint(err) !== undefined) throw new UniqueViolation(field)
  throw err
}

export function postgresAuthorizationRepository (db: PgDb): AuthorizationRepository {
  async function groupById (executor: PgDb | PgTx, id: string): Promise<GroupRecord | undefined> {
    const { rows } = await executor.execute<GroupRow & Record<string, unknown>>(sql`SELECT ${groupColumns} FROM groups g WHERE g.id = ${id}`)
    return rows[0] && toGroup(rows[0])
  }

  async function replaceGroupPermissions (tx: PgTx, groupId: string, codenames: string[]): Promise<void> {
    await tx.delete(groupPermissions).where(eq(groupPermissions.groupId, groupId))
    const values = unique(codenames).map(codename => ({ groupId, codename }))
    if (values.length > 0) await tx.insert(groupPermissions).values(values)
  }

  /**
   * Locks the user's row for the rest of the transaction, so that two replacements of its groups or
   * permissions run one after the other: the second one's DELETE then sees the first one's rows.
   * NO KEY UPDATE: it does not block the key-share locks of foreign keys (a login inserting a session).
   */
  async function groupMemberIds (tx: PgTx, groupId: string): Promise<string[]> {
    const rows = await tx.select({ userId: userGroups.userId }).from(userGroups).where(eq(userGroups.groupId, groupId)).orderBy(userGroups.userId)
    return rows.map(row => row.userId)
  }

  async function lockUser (tx: PgTx, userId: string): Promise<void> {
    await tx.execute(sql`SELECT 1 FROM users WHERE id = ${userId} FOR NO KEY UPDATE`)
  }

  return {
    async forUser (user): Promise<Authorization> {
      const { rows } = await db.execute<AuthorizationRow>(sql`SELECT ${sql.raw(authorizationColumns('u'))} FROM users u WHERE u.id = ${user.id}`)
      return { groups: sortedList(rows[0]?.group_names ?? null), permissions: sortedList(rows[0]?.permission_codenames ?? null) }
    },

    async direct (userId) {
      const [memberOf, own] = await Promise.all([
        db.execute<GroupRow & Record<string, unknown>>(sql`SELECT ${groupColumns} FROM groups g JOIN user_groups ug ON ug.group_id = g.id
                                                             WHERE ug.user_id = ${userId} ORDER BY g.name COLLATE "C"`),
        db.select({ codename: userPermissions.codename }).from(userPermissions).where(eq(userPermissions.userId, userId))
          .orderBy(sql`${userPermissions.codename} COLLATE "C"`)
      ])
      return { groups: memberOf.rows.map(toGroup), permissions: own.map(row => row.codename) }
    },

    async listPermissions () {
      return db.select({ codename: permissions.codename, description: permissions.description }).from(permissions)
        .orderBy(sql`${permissions.codename} COLLATE "C"`)
    },

    async existingPermissions (codenames) {
      if (hasNul(...codenames)) return []
      if (codenames.length === 0) return []
      const rows = await db.select({ codename: permissions.codename }).from(permissions).where(inArray(permissions.codename, unique(codenames)))
      const known = new Set(rows.map(row => row.codename))
      return codenames.filter(c => known.has(c))
    },

    async createPermission (permission) {
      try {
        await db.insert(permissions).values(permission)
      } catch (err) {
        rethrowUnique(err, 'codename')
      }
      return { codename: permission.codename, description: permission.description }
    },

    async listGroups () {
      const { rows } = await db.execute<GroupRow & Record<string, unknown>>(sql`SELECT ${groupColumns} FROM groups g ORDER BY g.name COLLATE "C"`)
      return rows.map(toGroup)
    },

    async findGroup (id) {
      if (hasNul(id)) return
      return groupById(db, id)
    },

    async findGroupsByName (names) {
      if (hasNul(...names)) return []
      if (names.length === 0) return []
      const { rows } = await db.execute<GroupRow & Record<string, unknown>>(sql`SELECT ${groupColumns} FROM groups g
                                                                              WHERE g.name IN ${unique(names)} ORDER BY g.name COLLATE "C"`)
      return rows.map(toGroup)
    },

    async createGroup (group) {
      try {
        await inTransaction(db, async tx => {
          await tx.insert(groups).values({ id: group.id, name: group.name, createdAt: group.createdAt })
          await replaceGroupPermissions(tx, group.id, group.permissions)
        })
      } catch (err) {
        rethrowUnique(err, 'name')
      }
      return { id: group.id, name: group.name, permissions: unique(group.permissions).sort() }
    },

    async updateGroup (id, patch, membersChanged) {
      if (hasNul(id)) return
      try {
        return await inTransaction(db, async tx => {
          // Locked first: two updates of one group's permissions replace them one after the other.
          const [found] = await tx.select({ id: groups.id }).from(groups).where(eq(groups.id, id)).for('no key update')
          if (found === undefined) return undefined
          if (patch.name !== undefined) await tx.update(groups).set({ name: patch.name }).where(eq(groups.id, id))
          if (patch.permissions !== undefined) {
            await replaceGroupPermissions(tx, id, patch.permissions)
            if (membersChanged !== undefined) await appendAuditEvents(tx, membersChanged(await groupMemberIds(tx, id)))
          }
          return groupById(tx, id)
        })
      } catch (err) {
        rethrowUnique(err, 'name')
      }
    },

    async deleteGroup (id, membersChanged) {
      if (hasNul(id)) return false
      return inTransaction(db, async tx => {
        // The members, read before the delete takes their memberships with it.
        const ids = await groupMemberIds(tx, id)
        const deleted = await tx.delete(groups).where(eq(groups.id, id)).returning({ id: groups.id })
        if (deleted.length === 0) return false
        if (membersChanged !== undefined) await appendAuditEvents(tx, membersChanged(ids))
        return true
      })
    },

    async setUserGroups (userId, groupIds, events = []) {
      await inTransaction(db, async tx => {
        await lockUser(tx, userId)
        await tx.delete(userGroups).where(eq(userGroups.userId, userId))
        const values = unique(groupIds).map(groupId => ({ userId, groupId }))
        if (values.length > 0) await tx.insert(userGroups).values(values)
        await appendAuditEvents(tx, events)
      })
    },

    async setUserPermissions (userId, codenames, events = []) {
      await inTransaction(db, async tx => {
        await lockUser(tx, userId)
        await tx.delete(userPermissions).where(eq(userPermissions.userId, userId))
        const values = unique(codenames).map(codename => ({ userId, codename }))
        if (values.length > 0) await tx.insert(userPermissions).values(values)
        await appendAuditEvents(tx, events)
      })
    }
  }
}
