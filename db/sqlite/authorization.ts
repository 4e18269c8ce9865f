// Groups and permissions on SQLite, and the effective permissions of a user.
import { UniqueViolation, type Authorization, type AuthorizationRepository, type GroupRecord, type MembersChanged, type NewAuditEvent } from '../repositories.js'
import { auditRecorder } from './audit.js'
import type { SqliteDb } from './connection.js'

/** The separator group_concat uses: a control character no name or codename contains. */
export const LIST_SEPARATOR = '\u001f'

export function splitList (joined: string | null): string[] {
  return joined === null || joined === '' ? [] : joined.split(LIST_SEPARATOR).sort()
}

/**
 * SQL for a user's group names and effective permission codenames, both joined with LIST_SEPARATOR.
 * `user` names the users row in the enclosing query (a correlated subquery), so the authentication
 * query can fold it into its single statement.
 */
export function authorizationColumns (user: string): string {
  return `(SELECT group_concat(g.name, char(31)) FROM user_groups ug JOIN groups g ON g.id = ug.group_id
            WHERE ug.user_id = ${user}.id) AS group_names,
          CASE WHEN ${user}.is_superuser = 1 THEN (SELECT group_concat(codename, char(31)) FROM permissions)
               ELSE (SELECT group_concat(codename, char(31)) FROM (
                       SELECT up.codename FROM user_permissions up WHERE up.user_id = ${user}.id
                       UNION
                       SELECT gp.codename FROM user_groups ug JOIN group_permissions gp ON gp.group_id = ug.group_id
                        WHERE ug.user_id = ${user}.id))
          END AS permission_codenames`
}

function rethrowUnique (err: unknown, field: 'name' | 'codename'): never {
  if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' || (err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    throw new UniqueViolation(field)
  }
  throw err
}

export function sqliteAuthorizationRepository (db: SqliteDb): AuthorizationRepository {
  const client = db.$client
  const forUser = client.prepare<[string], { group_names: string | null, permission_codenames: string | null }>(
    `SELECT ${authorizationColumns('u')} FROM users u WHERE u.id = ?`)
  const directPermissions = client.prepare<[string], { codename: string }>('SELECT codename FROM user_permissions WHERE user_id = ? ORDER BY codename')
  const directGroupIds = client.prepare<[string], { group_id: string }>('SELECT group_id FROM user_groups WHERE user_id = ?')
  const allPermissions = client.prepare<[], { codename: string, description: string }>('SELECT codename, description FROM permissions ORDER BY codename')
  const insertPermission = client.prepare('INSERT INTO permissions (codename, description, created_at) VALUES (?, ?, ?)')
  const groupRows = client.prepare<[], { id: string, name: string, codenames: string | null }>(
    `SELECT g.id, g.name, (SELECT group_concat(codename, char(31)) FROM group_permissions gp WHERE gp.group_id = g.id) AS codenames
       FROM groups g ORDER BY g.name`)
  const groupRow = client.prepare<[string], { id: string, name: string, codenames: string | null }>(
    `SELECT g.id, g.name, (SELECT group_concat(codename, char(31)) FROM group_permissions gp WHERE gp.group_id = g.id) AS codenames
       FROM groups g WHERE g.id = ?`)
  const insertGroup = client.prepare('INSERT INTO groups (id, name, created_at) VALUES (?, ?, ?)')
  const renameGroup = client.prepare('UPDATE groups SET name = ? WHERE id = ?')
  const deleteGroup = client.prepare('DELETE FROM groups WHERE id = ?')
  const clearGroupPermissions = client.prepare('DELETE FROM group_permissions WHERE group_id = ?')
  const addGroupPermission = client.prepare('INSERT INTO group_permissions (group_id, codename) VALUES (?, ?)')
  const clearUserGroups = client.prepare('DELETE FROM user_groups WHERE user_id = ?')
  const addUserGroup = client.prepare('INSERT INTO user_groups (user_id, group_id) VALUES (?, ?)')
  const clearUserPermissions = client.prepare('DELETE FROM user_permissions WHERE user_id = ?')
  const addUserPermission = client.prepare('INSERT INTO user_permissions (user_id, codename) VALUES (?, ?)')

  const toGroup = (row: { id: string, name: string, codenames: string | null }): GroupRecord =>
    ({ id: row.id, name: row.name, permissions: splitList(row.codenames) })
  const unique = (values: string[]) => [...new Set(values)]

  const createGroup = client.transaction((group: GroupRecord & { createdAt: Date }) => {
    insertGroup.run(group.id, group.name, group.createdAt.getTime())
    for (const codename of unique(group.permissions)) addGroupPermission.run(group.id, codename)
  })
  const audit = auditRecorder(db)
  const members = client.prepare<[string], { user_id: string }>('SELECT user_id FROM user_groups WHERE group_id = ? ORDER BY user_id')
  const memberIds = (groupId: string) => members.all(groupId).map(row => row.user_id)
  const updateGroup = client.transaction((id: string, patch: { name?: string, permissions?: string[] }, membersChanged?: MembersChanged) => {
    if (groupRow.get(id) === undefined) return false
    if (patch.name !== undefined) renameGroup.run(patch.name, id)
    if (patch.permissions !== undefined) {
      clearGroupPermissions.run(id)
      for (const codename of unique(patch.permissions)) addGroupPermission.run(id, codename)
      if (membersChanged !== undefined) audit.append(membersChanged(memberIds(id)))
    }
    return true
  })
  const deleteGroupWithMembers = client.transaction((id: string, membersChanged?: MembersChanged) => {
    // The members, read before the delete takes their memberships with it.
    const ids = memberIds(id)
    if (deleteGroup.run(id).changes === 0) return false
    if (membersChanged !== undefined) audit.append(membersChanged(ids))
    return true
  })
  const setUserGroups = client.transaction((userId: string, groupIds: string[], events: NewAuditEvent[]) => {
    clearUserGroups.run(userId)
    for (const groupId of unique(groupIds)) addUserGroup.run(userId, groupId)
    audit.append(events)
  })
  const setUserPermissions = client.transaction((userId: string, codenames: string[], events: NewAuditEvent[]) => {
    clearUserPermissions.run(userId)
    for (const codename of unique(codenames)) addUserPermission.run(userId, codename)
    audit.append(events)
  })

  return {
    async forUser (user): Promise<Authorization> {
      const row = forUser.get(user.id)
      return { groups: splitList(row?.group_names ?? null), permissions: splitList(row?.permission_codenames ?? null) }
    },
    async direct (userId) {
      const ids = new Set(directGroupIds.all(userId).map(r => r.group_id))
      return {
        groups: groupRows.all().filter(g => ids.has(g.id)).map(toGroup),
        permissions: directPermissions.all(userId).map(r => r.codename)
      }
    },
    async listPermissions () {
      return allPermissions.all()
    },
    async existingPermissions (codenames) {
      const known = new Set(allPermissions.all().map(p => p.codename))
      return codenames.filter(c => known.has(c))
    },
    async createPermission (permission) {
      try {
        insertPermission.run(permission.codename, permission.description, permission.createdAt.getTime())
      } catch (err) {
        rethrowUnique(err, 'codename')
      }
      return { codename: permission.codename, description: permission.description }
    },
    async listGroups () {
      return groupRows.all().map(toGroup)
    },
    async findGroup (id) {
      const row = groupRow.get(id)
      return row && toGroup(row)
    },
    async findGroupsByName (names) {
      const wanted = new Set(names)
      return groupRows.all().filter(g => wanted.has(g.name)).map(toGroup)
    },
    async createGroup (group) {
      try {
        createGroup.immediate(group)
      } catch (err) {
        rethrowUnique(err, 'name')
      }
      return { id: group.id, name: group.name, permissions: unique(group.permissions).sort() }
    },
    async updateGroup (id, patch, membersChanged) {
      try {
        if (!updateGroup.immediate(id, patch, membersChanged)) return undefined
      } catch (err) {
        rethrowUnique(err, 'name')
      }
      const row = groupRow.get(id)
      return row && toGroup(row)
    },
    async deleteGroup (id, membersChanged) {
      return deleteGroupWithMembers.immediate(id, membersChanged)
    },
    async setUserGroups (userId, groupIds, events = []) {
      setUserGroups.immediate(userId, groupIds, events)
    },
    async setUserPermissions (userId, codenames, events = []) {
      setUserPermissions.immediate(userId, codenames, events)
    }
  }
}
