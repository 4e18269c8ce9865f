// The Django import and the cut-over's used refresh tokens, on PostgreSQL.
import { eq, sql } from 'drizzle-orm'
import { toUser } from '../records.js'
import type { DjangoImportCounts, DjangoImportPlan, DjangoRepository, ExistingIdentity, NewAuditEvent } from '../repositories.js'
import { keepsVerification } from '../imported-verification.js'
import { usernameKey } from '../username-key.js'
import { appendAuditEvents } from './audit-events.js'
import { hasNul, inTransaction, type PgDb, type PgTx } from './database.js'
import { rethrowUnique } from './users.js'
import { users } from './schema.js'

interface UserRow extends Record<string, unknown> {
  id: string
  email: string
  username: string
  password_hash: string | null
  email_verified: boolean
  is_active: boolean
  is_staff: boolean
  is_superuser: boolean
  /** Milliseconds since the epoch, as text (bigint): node-postgres' raw timestamps are strings. */
  date_joined_ms: string
  last_login_ms: string | null
}

/** Thrown at the end of a dry run's transaction so that it is rolled back. */
class DryRun extends Error {
  constructor (readonly counts: DjangoImportCounts) {
    super('dry run')
  }
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((value, i) => value === b[i])
const sorted = (values: string[]) => [...values].sort()

/** Brings a user's memberships among `scope` (the import's groups or permissions) to `wanted`; the rest stay. */
async function replaceWithin (current: string[], wanted: string[], scope: Set<string>, remove: (value: string) => Promise<unknown>, add: (value: string) => Promise<unknown>): Promise<boolean> {
  const inScope = sorted(current.filter(value => scope.has(value)))
  const target = sorted([...new Set(wanted)])
  if (sameList(inScope, target)) return false
  for (const value of inScope) if (!target.includes(value)) await remove(value)
  for (const value of target) if (!inScope.includes(value)) await add(value)
  return true
}

async function applyIn (tx: PgTx, plan: DjangoImportPlan): Promise<DjangoImportCounts> {
  const now = plan.now
  const counts: DjangoImportCounts = { usersCreated: 0, usersUpdated: 0, usersUnchanged: 0, groupsCreated: 0, groupsUpdated: 0, permissionsCreated: 0, blacklistedTokensRecorded: 0 }
  for (const permission of plan.permissions) {
    const inserted = await tx.execute(sql`INSERT INTO permissions (codename, description, created_at) VALUES (${permission.codename}, ${permission.description}, ${now})
      ON CONFLICT (codename) DO NOTHING`)
    counts.permissionsCreated += inserted.rowCount ?? 0
  }
  const groupIds = new Map<string, string>()
  for (const group of plan.groups) {
    const { rows } = await tx.execute<{ id: string }>(sql`SELECT id FROM groups WHERE name = ${group.name}`)
    let id = rows[0]?.id
    const created = id === undefined
    if (id === undefined) {
      id = plan.newId()
      await tx.execute(sql`INSERT INTO groups (id, name, created_at) VALUES (${id}, ${group.name}, ${now})`)
      counts.groupsCreated++
    }
    groupIds.set(group.name, id)
    const wanted = sorted([...new Set(group.permissions)])
    const current = sorted((await tx.execute<{ codename: string }>(sql`SELECT codename FROM group_permissions WHERE group_id = ${id}`)).rows.map(r => r.codename))
    if (!sameList(current, wanted)) {
      await tx.execute(sql`DELETE FROM group_permissions WHERE group_id = ${id}`)
      for (const codename of wanted) await tx.execute(sql`INSERT INTO group_permissions (group_id, codename) VALUES (${id}, ${codename})`)
      if (!created) counts.groupsUpdated++
    }
  }
  const groupNames = new Set(plan.groups.map(g => g.name))
  const codenames = new Set(plan.permissions.map(p => p.codename))
  const events: NewAuditEvent[] = []
  for (const user of plan.users) {
    const found = (await tx.execute<UserRow>(sql`SELECT id, email, username, password_hash, email_verified, is_active, is_staff, is_superuser,
        (extract(epoch FROM date_joined) * 1000)::bigint AS date_joined_ms, (extract(epoch FROM last_login) * 1000)::bigint AS last_login_ms
      FROM users WHERE legacy_id = ${user.legacyId} FOR UPDATE`)).rows[0]
    let id: string
    let changed = false
    if (found === undefined) {
      id = plan.newId()
      await tx.execute(sql`INSERT INTO users (id, email, username, username_key, password_hash, is_active, is_staff, is_superuser,
          email_verified, date_joined, last_login, legacy_id)
        VALUES (${id}, ${user.email}, ${user.username}, ${usernameKey(user.username)}, ${user.passwordHash}, ${user.isActive}, ${user.isStaff},
          ${user.isSuperuser}, ${user.emailVerified}, ${user.dateJoined}, ${user.lastLogin}, ${user.legacyId})`)
      counts.usersCreated++
    } else {
      id = found.id
      const passwordHash = plan.keepsPasswordHash(found.password_hash) ? found.password_hash : user.passwordHash
      // A login here since the first import is newer than Django's: the later of the two is kept.
      const lastLogin = Math.max(found.last_login_ms === null ? -Infinity : Number(found.last_login_ms), user.lastLogin?.getTime() ?? -Infinity)
      const emailVerified = keepsVerification(found.email, found.email_verified, user)
      const next = [user.email, user.username, passwordHash, user.isActive, user.isStaff, user.isSuperuser,
        user.dateJoined.getTime(), Number.isFinite(lastLogin) ? lastLogin : null, emailVerified]
      const before = [found.email, found.username, found.password_hash, found.is_active, found.is_staff, found.is_superuser,
        Number(found.date_joined_ms), found.last_login_ms === null ? null : Number(found.last_login_ms), found.email_verified]
      if (next.some((value, i) => value !== before[i])) {
        await tx.execute(sql`UPDATE users SET email = ${user.email}, username = ${user.username}, username_key = ${usernameKey(user.username)},
            password_hash = ${passwordHash}, is_active = ${user.isActive}, is_staff = ${user.isStaff}, is_superuser = ${user.isSuperuser},
            date_joined = ${user.dateJoined}, last_login = ${Number.isFinite(lastLogin) ? new Date(lastLogin) : null},
            email_verified = ${emailVerified}
          WHERE id = ${id}`)
        changed = true
      }
    }
    const currentGroups = (await tx.execute<{ name: string }>(sql`SELECT g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = ${id}`)).rows
    const groupsChanged = await replaceWithin(currentGroups.map(r => r.name), user.groups, groupNames,
      name => tx.execute(sql`DELETE FROM user_groups WHERE user_id = ${id} AND group_id = ${groupIds.get(name)}`),
      name => tx.execute(sql`INSERT INTO user_groups (user_id, group_id) VALUES (${id}, ${groupIds.get(name)}) ON CONFLICT DO NOTHING`))
    const currentPermissions = (await tx.execute<{ codename: string }>(sql`SELECT codename FROM user_permissions WHERE user_id = ${id}`)).rows
    const permissionsChanged = await replaceWithin(currentPermissions.map(r => r.codename), user.permissions, codenames,
      codename => tx.execute(sql`DELETE FROM user_permissions WHERE user_id = ${id} AND codename = ${codename}`),
      codename => tx.execute(sql`INSERT INTO user_permissions (user_id, codename) VALUES (${id}, ${codename}) ON CONFLICT DO NOTHING`))
    if (found !== undefined) {
      if (changed || groupsChanged || permissionsChanged) counts.usersUpdated++
      else counts.usersUnchanged++
    }
    events.push(...plan.events({ userId: id, user, created: found === undefined, fieldsChanged: changed, accessChanged: groupsChanged || permissionsChanged }))
  }
  for (const token of plan.blacklistedRefreshTokens) {
    if (hasNul(token.jti)) continue
    const inserted = await tx.execute(sql`INSERT INTO django_refresh_tokens (jti, used_at, expires_at) VALUES (${token.jti}, ${plan.now}, ${token.expiresAt})
      ON CONFLICT (jti) DO NOTHING`)
    counts.blacklistedTokensRecorded += inserted.rowCount ?? 0
  }
  // Last: the audit chain's head is locked until commit.
  await appendAuditEvents(tx, events)
  if (plan.dryRun) throw new DryRun(counts)
  return counts
}

export function postgresDjangoRepository (db: PgDb): DjangoRepository {
  return {
    async identities (): Promise<ExistingIdentity[]> {
      const { rows } = await db.execute<{ id: string, legacy_id: number | null, email: string, username_key: string }>(
        sql`SELECT id, legacy_id, email, username_key FROM users`)
      return rows.map(row => ({ id: row.id, legacyId: row.legacy_id, email: row.email, usernameKey: row.username_key }))
    },
    async apply (plan) {
      try {
        return await inTransaction(db, tx => applyIn(tx, plan))
      } catch (err) {
        if (err instanceof DryRun) return err.counts
        rethrowUnique(err)
      }
    },
    async findUserByLegacyId (legacyId) {
      const [row] = await db.select().from(users).where(eq(users.legacyId, legacyId))
      return row && toUser(row)
    },
    async useRefreshToken (jti, expiresAt, now) {
      if (hasNul(jti)) return false
      const inserted = await db.execute(sql`INSERT INTO django_refresh_tokens (jti, used_at, expires_at) VALUES (${jti}, ${now}, ${expiresAt})
        ON CONFLICT (jti) DO NOTHING`)
      return inserted.rowCount === 1
    },
    async releaseRefreshToken (jti) {
      if (!hasNul(jti)) await db.execute(sql`DELETE FROM django_refresh_tokens WHERE jti = ${jti}`)
    },
    async pruneRefreshTokens (now, limit) {
      const deleted = await db.execute(sql`DELETE FROM django_refresh_tokens WHERE jti IN (
                                             SELECT jti FROM django_refresh_tokens WHERE expires_at <= ${now} LIMIT ${limit} FOR UPDATE SKIP LOCKED)`)
      return deleted.rowCount ?? 0
    }
  }
}
