// admin/: the admin API's rules for users, groups and permissions, and who may grant what.
// The admin API's rules for users: list, view, change, ban, delete, and their groups and permissions.
import type { UserPatch, UserRecord } from '../../db/repositories.js'
import { UniqueViolation } from '../../db/repositories.js'
import { assertCanGrant, assertSuperuserFor, type Actor } from './access.js'
import type { AuthDeps } from '../deps.js'
import { errors } from '../errors.js'
import { decodePageCursor, encodePageCursor } from '../http/page-cursor.js'
import { loadUserExtras, userView, type UserView } from '../accounts/user-view.js'
import { auditEvent, sessionRevoked } from '../audit/events.js'
import { resetMfa } from '../mfa/second-factor.js'

export interface AdminUserView extends UserView {
  is_banned: boolean
  ban_reason: string | null
  banned_until: string | null
  legacy_id: number | null
  /** Which second factors the user has, never their secrets. */
  mfa: { totp: boolean, passkeys: number, recovery_codes_left: number }
}

export async function adminUserView (deps: AuthDeps, user: UserRecord): Promise<AdminUserView> {
  return {
    ...userView(user, await loadUserExtras(deps.repositories, user)),
    is_banned: user.isBanned,
    ban_reason: user.banReason,
    banned_until: user.bannedUntil?.toISOString() ?? null,
    legacy_id: user.legacyId ?? null,
    mfa: await adminMfaView(deps, user.id)
  }
}

async function adminMfaView (deps: AuthDeps, userId: string): Promise<AdminUserView['mfa']> {
  const factors = await deps.repositories.mfa.factors(userId)
  return { totp: factors.totp, passkeys: factors.passkeys, recovery_codes_left: factors.recoveryCodesLeft }
}

/** Removes every second factor of the user and ends its sessions (a lost phone): superusers' only by a superuser. */
export async function resetUserMfa (deps: AuthDeps, actor: Actor, id: string): Promise<UserRecord> {
  const user = await findUser(deps, id)
  assertMayManage(actor, user, 'reset the second factors of')
  await resetMfa(deps, user)
  return user
}

async function findUser (deps: AuthDeps, id: string): Promise<UserRecord> {
  const user = await deps.repositories.users.findById(id)
  if (user === undefined) throw errors.notFound('No such user.')
  return user
}

/** A superuser's account is a superuser's business. */
function assertMayManage (actor: Actor, target: UserRecord, action: string): void {
  if (target.isSuperuser && target.id !== actor.user.id) assertSuperuserFor(actor, `${action} a superuser`)
}

function encodeCursor (user: UserRecord): string {
  return encodePageCursor('users', user.dateJoined.getTime(), user.id)
}

function decodeCursor (cursor: string): { dateJoined: Date, id: string } {
  const { position, id } = decodePageCursor('users', cursor, true)
  return { dateJoined: new Date(position), id }
}

export async function listUsers (deps: AuthDeps, options: { q?: string, limit: number, cursor?: string }): Promise<{ items: AdminUserView[], next_cursor: string | null }> {
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor)
  // One extra row tells whether there is a next page.
  const rows = await deps.repositories.users.list({ query: options.q, limit: options.limit + 1, after })
  const page = rows.slice(0, options.limit)
  return {
    items: await Promise.all(page.map(user => adminUserView(deps, user))),
    next_cursor: rows.length > options.limit ? encodeCursor(page[page.length - 1]) : null
  }
}

export async function getUser (deps: AuthDeps, id: string): Promise<AdminUserView> {
  return adminUserView(deps, await findUser(deps, id))
}

export interface AdminUserPatch {
  is_active?: boolean
  is_staff?: boolean
  is_superuser?: boolean
  email_verified?: boolean
  username?: string
}

export async function updateUser (deps: AuthDeps, actor: Actor, id: string, patch: AdminUserPatch): Promise<AdminUserView> {
  const target = await findUser(deps, id)
  assertMayManage(actor, target, 'change')
  if (patch.is_superuser !== undefined && patch.is_superuser !== target.isSuperuser) assertSuperuserFor(actor, 'grant or remove superuser status')
  const changes: UserPatch = {
    ...(patch.is_active !== undefined && { isActive: patch.is_active }),
    ...(patch.is_staff !== undefined && { isStaff: patch.is_staff }),
    ...(patch.is_superuser !== undefined && { isSuperuser: patch.is_superuser }),
    ...(patch.email_verified !== undefined && { emailVerified: patch.email_verified }),
    ...(patch.username !== undefined && { username: patch.username })
  }
  let updated: UserRecord | undefined
  try {
    updated = await deps.repositories.users.update(id, changes, [auditEvent(deps, 'user.updated', id, { fields: Object.keys(patch) })])
  } catch (err) {
    if (err instanceof UniqueViolation) throw errors.usernameTaken()
    throw err
  }
  if (updated === undefined) throw errors.notFound('No such user.')
  // A deactivated account keeps no session.
  if (patch.is_active === false && target.isActive) {
    await deps.repositories.sessions.revokeAll(id, deps.now(), 'deactivated', undefined, sessionRevoked(deps, id, 'deactivated'))
  }
  return adminUserView(deps, updated)
}

export async function banUser (deps: AuthDeps, actor: Actor, id: string, ban: { reason?: string, until?: Date }): Promise<AdminUserView> {
  const target = await findUser(deps, id)
  assertMayManage(actor, target, 'ban')
  const now = deps.now()
  // A leap second passes the date-time format but is an Invalid Date, which would be stored as NULL: a ban without end.
  if (ban.until !== undefined && Number.isNaN(ban.until.getTime())) {
    throw errors.validation([{ field: 'until', message: 'must be a date-time that exists (no leap seconds)' }])
  }
  if (ban.until !== undefined && ban.until <= now) {
    throw errors.validation([{ field: 'until', message: 'must be in the future (leave it out for a ban without end)' }])
  }
  // A ban ends every session at once, in the transaction that writes it: refresh tokens die, and
  // Portcullis's own endpoints refuse the access tokens; a login in flight finds the ban and gets no session.
  const banned = await deps.repositories.sessions.updateUserAndRevoke(id, {
    patch: { isBanned: true, banReason: ban.reason ?? null, bannedUntil: ban.until ?? null },
    now,
    reason: 'banned',
    events: [auditEvent(deps, 'user.banned', id, { until: ban.until?.toISOString() ?? null })]
  })
  return adminUserView(deps, banned?.user ?? target)
}

export async function unbanUser (deps: AuthDeps, actor: Actor, id: string): Promise<AdminUserView> {
  const target = await findUser(deps, id)
  assertMayManage(actor, target, 'unban')
  const updated = await deps.repositories.users.update(id, { isBanned: false, banReason: null, bannedUntil: null }, [auditEvent(deps, 'user.unbanned', id)])
  return adminUserView(deps, updated ?? target)
}

export async function deleteUser (deps: AuthDeps, actor: Actor, id: string): Promise<void> {
  const target = await findUser(deps, id)
  assertMayManage(actor, target, 'delete')
  await deps.repositories.users.delete(id, deps.now(), [auditEvent(deps, 'user.deleted', id, { username: target.username })])
}

/** Replaces the user's groups by name. Unknown names are 400; adding a group hands out its permissions. */
export async function setUserGroups (deps: AuthDeps, actor: Actor, id: string, names: string[]): Promise<AdminUserView> {
  const target = await findUser(deps, id)
  assertMayManage(actor, target, 'change')
  const { authorization } = deps.repositories
  const wanted = [...new Set(names)]
  const found = await authorization.findGroupsByName(wanted)
  const unknown = wanted.filter(name => !found.some(group => group.name === name))
  if (unknown.length > 0) throw errors.validation(unknown.map(name => ({ field: 'groups', message: `no group named "${name}"` })))
  const current = new Set((await authorization.direct(id)).groups.map(group => group.id))
  assertCanGrant(actor, found.filter(group => !current.has(group.id)).flatMap(group => group.permissions))
  await authorization.setUserGroups(id, found.map(group => group.id), [auditEvent(deps, 'permissions.changed', id, { groups: found.map(group => group.name).sort() })])
  return adminUserView(deps, target)
}

/** Replaces the user's own permissions. Unknown codenames are 400; nobody grants what they lack. */
export async function setUserPermissions (deps: AuthDeps, actor: Actor, id: string, codenames: string[]): Promise<AdminUserView> {
  const target = await findUser(deps, id)
  assertMayManage(actor, target, 'change')
  const { authorization } = deps.repositories
  const wanted = [...new Set(codenames)]
  const known = await authorization.existingPermissions(wanted)
  const unknown = wanted.filter(codename => !known.includes(codename))
  if (unknown.length > 0) throw errors.validation(unknown.map(codename => ({ field: 'permissions', message: `no permission "${codename}"` })))
  const current = new Set((await authorization.direct(id)).permissions)
  assertCanGrant(actor, wanted.filter(codename => !current.has(codename)))
  await authorization.setUserPermissions(id, wanted, [auditEvent(deps, 'permissions.changed', id, { permissions: [...wanted].sort() })])
  return adminUserView(deps, target)
}
