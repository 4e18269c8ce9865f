// The Django import and the cut-over's used refresh tokens, on SQLite.
import { eq } from 'drizzle-orm'
import { toUser } from '../records.js'
import type { DjangoImportCounts, DjangoImportPlan, DjangoRepository, ExistingIdentity } from '../repositories.js'
import { keepsVerification } from '../imported-verification.js'
import { usernameKey } from '../username-key.js'
import { auditRecorder } from './audit.js'
import type { SqliteDb } from './connection.js'
import { users } from './schema.js'
import { rethrowUnique } from './users.js'

interface UserRow {
  id: string
  email: string
  username: string
  password_hash: string | null
  email_verified: number
  is_active: number
  is_staff: number
  is_superuser: number
  date_joined: number
  last_login: number | null
}

/** Thrown at the end of a dry run's transaction so that better-sqlite3 rolls it back. */
class DryRun extends Error {
  constructor (readonly counts: DjangoImportCounts) {
    super('dry run')
  }
}

export function sqliteDjangoRepository (db: SqliteDb): DjangoRepository {
  const client = db.$client
  const audit = auditRecorder(db)
  const identities = client.prepare<[], { id: string, legacy_id: number | null, email: string, username_key: string }>(
    'SELECT id, legacy_id, email, username_key FROM users')
  const insertPermission = client.prepare('INSERT INTO permissions (codename, description, created_at) VALUES (?, ?, ?) ON CONFLICT (codename) DO NOTHING')
  const groupByName = client.prepare<[string], { id: string }>('SELECT id FROM groups WHERE name = ?')
  const insertGroup = client.prepare('INSERT INTO groups (id, name, created_at) VALUES (?, ?, ?)')
  const groupCodenames = client.prepare<[string], { codename: string }>('SELECT codename FROM group_permissions WHERE group_id = ? ORDER BY codename')
  const clearGroupPermissions = client.prepare('DELETE FROM group_permissions WHERE group_id = ?')
  const addGroupPermission = client.prepare('INSERT INTO group_permissions (group_id, codename) VALUES (?, ?)')
  const userByLegacyId = client.prepare<[number], UserRow>('SELECT * FROM users WHERE legacy_id = ?')
  const insertUser = client.prepare(`INSERT INTO users (id, email, username, username_key, password_hash, is_active, is_staff,
      is_superuser, email_verified, date_joined, last_login, legacy_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const updateUser = client.prepare(`UPDATE users SET email = ?, username = ?, username_key = ?, password_hash = ?, is_active = ?,
      is_staff = ?, is_superuser = ?, date_joined = ?, last_login = ?, email_verified = ? WHERE id = ?`)
  const userGroupNames = client.prepare<[string], { name: string }>(
    'SELECT g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = ? ORDER BY g.name')
  const deleteUserGroup = client.prepare('DELETE FROM user_groups WHERE user_id = ? AND group_id = ?')
  const addUserGroup = client.prepare('INSERT OR IGNORE INTO user_groups (user_id, group_id) VALUES (?, ?)')
  const userCodenames = client.prepare<[string], { codename: string }>('SELECT codename FROM user_permissions WHERE user_id = ? ORDER BY codename')
  const deleteUserPermission = client.prepare('DELETE FROM user_permissions WHERE user_id = ? AND codename = ?')
  const addUserPermission = client.prepare('INSERT OR IGNORE INTO user_permissions (user_id, codename) VALUES (?, ?)')
  const insertUsedToken = client.prepare('INSERT INTO django_refresh_tokens (jti, used_at, expires_at) VALUES (?, ?, ?) ON CONFLICT (jti) DO NOTHING')
  const deleteUsedToken = client.prepare('DELETE FROM django_refresh_tokens WHERE jti = ?')
  const pruneUsedTokens = client.prepare('DELETE FROM django_refresh_tokens WHERE jti IN (SELECT jti FROM django_refresh_tokens WHERE expires_at <= ? LIMIT ?)')

  const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((value, i) => value === b[i])

  /** Brings a user's memberships among `scope` (the import's groups or permissions) to `wanted`; the rest stay. */
  function replaceWithin (current: string[], wanted: string[], scope: Set<string>, remove: (value: string) => void, add: (value: string) => void): boolean {
    const inScope = current.filter(value => scope.has(value))
    const target = [...new Set(wanted)].sort()
    if (sameList(inScope, target)) return false
    for (const value of inScope) if (!target.includes(value)) remove(value)
    for (const value of target) if (!inScope.includes(value)) add(value)
    return true
  }

  const apply = client.transaction((plan: DjangoImportPlan): DjangoImportCounts => {
    const now = plan.now.getTime()
    const counts: DjangoImportCounts = { usersCreated: 0, usersUpdated: 0, usersUnchanged: 0, groupsCreated: 0, groupsUpdated: 0, permissionsCreated: 0, blacklistedTokensRecorded: 0 }
    for (const permission of plan.permissions) {
      counts.permissionsCreated += insertPermission.run(permission.codename, permission.description, now).changes
    }
    const groupIds = new Map<string, string>()
    for (const group of plan.groups) {
      let id = groupByName.get(group.name)?.id
      const created = id === undefined
      if (id === undefined) {
        id = plan.newId()
        insertGroup.run(id, group.name, now)
        counts.groupsCreated++
      }
      groupIds.set(group.name, id)
      const wanted = [...new Set(group.permissions)].sort()
      const current = groupCodenames.all(id).map(r => r.codename)
      if (!sameList(current, wanted)) {
        clearGroupPermissions.run(id)
        for (const codename of wanted) addGroupPermission.run(id, codename)
        if (!created) counts.groupsUpdated++
      }
    }
    const groupNames = new Set(plan.groups.map(g => g.name))
    const codenames = new Set(plan.permissions.map(p => p.codename))
    for (const user of plan.users) {
      const found = userByLegacyId.get(user.legacyId)
      let id: string
      let changed = false
      if (found === undefined) {
        id = plan.newId()
        insertUser.run(id, user.email, user.username, usernameKey(user.username), user.passwordHash, Number(user.isActive),
          Number(user.isStaff), Number(user.isSuperuser), Number(user.emailVerified), user.dateJoined.getTime(), user.lastLogin?.getTime() ?? null, user.legacyId)
        counts.usersCreated++
      } else {
        id = found.id
        const passwordHash = plan.keepsPasswordHash(found.password_hash) ? found.password_hash : user.passwordHash
        // A login here since the first import is newer than Django's: the later of the two is kept.
        const lastLogin = Math.max(found.last_login ?? -Infinity, user.lastLogin?.getTime() ?? -Infinity)
        const emailVerified = keepsVerification(found.email, found.email_verified === 1, user)
        const next = [user.email, user.username, passwordHash, Number(user.isActive), Number(user.isStaff), Number(user.isSuperuser),
          user.dateJoined.getTime(), Number.isFinite(lastLogin) ? lastLogin : null, Number(emailVerified)] as const
        const before = [found.email, found.username, found.password_hash, found.is_active, found.is_staff, found.is_superuser,
          found.date_joined, found.last_login, found.email_verified]
        if (next.some((value, i) => value !== before[i])) {
          updateUser.run(next[0], next[1], usernameKey(next[1]), next[2], next[3], next[4], next[5], next[6], next[7], next[8], id)
          changed = true
        }
      }
      const userId = id
      const groupsChanged = replaceWithin(userGroupNames.all(id).map(r => r.name), user.groups, groupNames,
        name => deleteUserGroup.run(userId, groupIds.get(name)), name => addUserGroup.run(userId, groupIds.get(name)))
      const permissionsChanged = replaceWithin(userCodenames.all(id).map(r => r.codename), user.permissions, codenames,
        codename => deleteUserPermission.run(userId, codename), codename => addUserPermission.run(userId, codename))
      if (found !== undefined) {
        if (changed || groupsChanged || permissionsChanged) counts.usersUpdated++
        else counts.usersUnchanged++
      }
      audit.append(plan.events({ userId: id, user, created: found === undefined, fieldsChanged: changed, accessChanged: groupsChanged || permissionsChanged }))
    }
    for (const token of plan.blacklistedRefreshTokens) {
      counts.blacklistedTokensRecorded += insertUsedToken.run(token.jti, plan.now.getTime(), token.expiresAt.getTime()).changes
    }
    if (plan.dryRun) throw new DryRun(counts)
    return counts
  })

  return {
    async identities (): Promise<ExistingIdentity[]> {
      return identities.all().map(row => ({ id: row.id, legacyId: row.legacy_id, email: row.email, usernameKey: row.username_key }))
    },
    async apply (plan) {
      try {
        return apply.immediate(plan)
      } catch (err) {
        if (err instanceof DryRun) return err.counts
        rethrowUnique(err)
      }
    },
    async findUserByLegacyId (legacyId) {
      const row = db.select().from(users).where(eq(users.legacyId, legacyId)).get()
      return row && toUser(row)
    },
    async useRefreshToken (jti, expiresAt, now) {
      return insertUsedToken.run(jti, now.getTime(), expiresAt.getTime()).changes === 1
    },
    async releaseRefreshToken (jti) {
      deleteUsedToken.run(jti)
    },
    async pruneRefreshTokens (now, limit) {
      return pruneUsedTokens.run(now.getTime(), limit).changes
    }
  }
}
