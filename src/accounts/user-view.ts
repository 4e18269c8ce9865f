// The user as the API shows it (snake_case, no secrets).
import type { Repositories, UserSummary } from '../../db/repositories.js'

export interface UserView {
  id: string
  email: string
  username: string
  email_verified: boolean
  is_active: boolean
  is_staff: boolean
  is_superuser: boolean
  date_joined: string
  last_login: string | null
  groups: string[]
  permissions: string[]
  providers: string[]
}

export interface UserExtras {
  groups: string[]
  permissions: string[]
  providers: string[]
}

const NO_EXTRAS: UserExtras = { groups: [], permissions: [], providers: [] }

export function userView (user: UserSummary, extras: UserExtras = NO_EXTRAS): UserView {
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    email_verified: user.emailVerified,
    is_active: user.isActive,
    is_staff: user.isStaff,
    is_superuser: user.isSuperuser,
    date_joined: user.dateJoined.toISOString(),
    last_login: user.lastLogin?.toISOString() ?? null,
    groups: extras.groups,
    permissions: extras.permissions,
    providers: extras.providers
  }
}

/** What the view adds to the user record: its current groups, effective permissions and linked providers. */
export async function loadUserExtras (repositories: Pick<Repositories, 'authorization' | 'socialAccounts'>, user: { id: string, isSuperuser: boolean }): Promise<UserExtras> {
  const [authorization, providers] = await Promise.all([repositories.authorization.forUser(user), repositories.socialAccounts.providersOf(user.id)])
  return { ...authorization, providers }
}

/** The view with the user's current groups, permissions and providers read from the database. */
export async function loadUserView (repositories: Pick<Repositories, 'authorization' | 'socialAccounts'>, user: UserSummary): Promise<UserView> {
  return userView(user, await loadUserExtras(repositories, user))
}
