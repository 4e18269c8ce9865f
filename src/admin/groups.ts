// The admin API's rules for groups and permissions.
import { randomUUID } from 'node:crypto'
import { UniqueViolation, type GroupRecord, type MembersChanged, type PermissionRecord } from '../../db/repositories.js'
import { auditEvent } from '../audit/events.js'
import { assertCanGrant, type Actor } from './access.js'
import type { AuthDeps } from '../deps.js'
import { errors } from '../errors.js'

async function assertPermissionsExist (deps: AuthDeps, codenames: string[]): Promise<void> {
  const known = await deps.repositories.authorization.existingPermissions(codenames)
  const unknown = codenames.filter(codename => !known.includes(codename))
  if (unknown.length > 0) throw errors.validation(unknown.map(codename => ({ field: 'permissions', message: `no permission "${codename}"` })))
}

export async function listGroups (deps: AuthDeps): Promise<GroupRecord[]> {
  return deps.repositories.authorization.listGroups()
}

export async function getGroup (deps: AuthDeps, id: string): Promise<GroupRecord> {
  const group = await deps.repositories.authorization.findGroup(id)
  if (group === undefined) throw errors.notFound('No such group.')
  return group
}

/**
 * permissions.changed for each member of a group whose permissions changed (`permissions`) or that
 * was deleted (undefined): what a member holds through the group is what changed.
 */
function membersChanged (deps: AuthDeps, group: string, permissions: string[] | undefined): MembersChanged {
  const data = permissions === undefined ? { group, group_deleted: true } : { group, group_permissions: [...permissions].sort() }
  return memberIds => memberIds.map(memberId => auditEvent(deps, 'permissions.changed', memberId, data))
}

export async function createGroup (deps: AuthDeps, actor: Actor, input: { name: string, permissions?: string[] }): Promise<GroupRecord> {
  const permissions = [...new Set(input.permissions ?? [])]
  await assertPermissionsExist(deps, permissions)
  // A group is a way to hand out permissions: the same rule as granting them directly.
  assertCanGrant(actor, permissions)
  try {
    return await deps.repositories.authorization.createGroup({ id: randomUUID(), name: input.name, permissions, createdAt: deps.now() })
  } catch (err) {
    if (err instanceof UniqueViolation) throw errors.groupExists()
    throw err
  }
}

export async function updateGroup (deps: AuthDeps, actor: Actor, id: string, patch: { name?: string, permissions?: string[] }): Promise<GroupRecord> {
  const group = await getGroup(deps, id)
  const permissions = patch.permissions === undefined ? undefined : [...new Set(patch.permissions)]
  if (permissions !== undefined) {
    await assertPermissionsExist(deps, permissions)
    assertCanGrant(actor, permissions.filter(codename => !group.permissions.includes(codename)))
  }
  try {
    const updated = await deps.repositories.authorization.updateGroup(id, { name: patch.name, permissions }, permissions === undefined ? undefined : membersChanged(deps, patch.name ?? group.name, permissions))
    if (updated === undefined) throw errors.notFound('No such group.')
    return updated
  } catch (err) {
    if (err instanceof UniqueViolation) throw errors.groupExists()
    throw err
  }
}

export async function deleteGroup (deps: AuthDeps, id: string): Promise<void> {
  const group = await deps.repositories.authorization.findGroup(id)
  if (group === undefined || !await deps.repositories.authorization.deleteGroup(id, membersChanged(deps, group.name, undefined))) throw errors.notFound('No such group.')
}

export async function listPermissions (deps: AuthDeps): Promise<PermissionRecord[]> {
  return deps.repositories.authorization.listPermissions()
}

export async function createPermission (deps: AuthDeps, input: PermissionRecord): Promise<PermissionRecord> {
  try {
    return await deps.repositories.authorization.createPermission({ ...input, createdAt: deps.now() })
  } catch (err) {
    if (err instanceof UniqueViolation) throw errors.permissionExists()
    throw err
  }
}
