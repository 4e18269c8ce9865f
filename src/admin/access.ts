// Who may hand out what: the rules that stop staff from escalating themselves or anyone else.
import type { Authorization, UserSummary } from '../../db/repositories.js'
import { errors } from '../errors.js'

/** The signed-in user acting through the admin API or, with every right, the operator CLI. */
export interface Actor {
  user: Pick<UserSummary, 'id' | 'isSuperuser'>
  authorization: Authorization
}

/** The operator at the command line: the CLI has the database, so it has every right. */
export const OPERATOR: Actor = { user: { id: 'operator', isSuperuser: true }, authorization: { groups: [], permissions: [] } }

/** Nobody grants a permission they do not hold themselves (a superuser holds them all). */
export function assertCanGrant (actor: Actor, codenames: Iterable<string>): void {
  if (actor.user.isSuperuser) return
  const held = new Set(actor.authorization.permissions)
  const missing = [...codenames].filter(codename => !held.has(codename))
  if (missing.length > 0) throw errors.permissionDenied(missing)
}

/** Only a superuser may make a superuser, or change, ban or delete one. */
export function assertSuperuserFor (actor: Actor, action: string): void {
  if (!actor.user.isSuperuser) {
    throw errors.permissionDeniedBecause(`Only a superuser can ${action}.`)
  }
}
