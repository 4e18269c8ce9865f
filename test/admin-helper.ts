// Users with given permissions, groups and flags, set straight in the repositories, then logged in;
// and small shorthands for calling the admin API and reading its answers.
import type { Test } from 'tap'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { bearer, newUser, PASSWORD, registerUser, type LoggedIn } from './helper.js'

export type Reply = Awaited<ReturnType<FastifyInstance['inject']>>

export interface Grant {
  permissions?: string[]
  /** Names of existing groups. */
  groups?: string[]
  superuser?: boolean
  staff?: boolean
}

/** Registers a user, gives it `grant` directly in the database, then logs in (so the tokens carry it). */
export async function loginAs (app: FastifyInstance, grant: Grant = {}, body = newUser()): Promise<LoggedIn> {
  const user = await registerUser(app, body)
  const { users, authorization } = app.repositories
  if (grant.superuser !== undefined || grant.staff !== undefined) {
    await users.update(user.id, { ...(grant.superuser !== undefined && { isSuperuser: grant.superuser }), ...(grant.staff !== undefined && { isStaff: grant.staff }) })
  }
  if (grant.permissions !== undefined) await authorization.setUserPermissions(user.id, grant.permissions)
  if (grant.groups !== undefined) {
    const groups = await authorization.findGroupsByName(grant.groups)
    if (groups.length !== grant.groups.length) throw new Error(`unknown groups in ${grant.groups.join(', ')}`)
    await authorization.setUserGroups(user.id, groups.map(group => group.id))
  }
  const res = await loginRequest(app, user.email, user.password)
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
  const { access, refresh } = res.json()
  return { ...user, access, refresh, cookie: String(res.headers['set-cookie']) }
}

/** A fresh login: new tokens whose claims reflect the account as it is now. */
export async function login (app: FastifyInstance, email: string, password = PASSWORD): Promise<{ access: string, refresh: string }> {
  const res = await loginRequest(app, email, password)
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
  const { access, refresh } = res.json()
  return { access, refresh }
}

export function loginRequest (app: FastifyInstance, email: string, password = PASSWORD) {
  return app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } })
}

export function refreshRequest (app: FastifyInstance, refresh: string) {
  return app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh } })
}

export function me (app: FastifyInstance, access: string) {
  return app.inject({ url: '/api/auth/me', headers: bearer(access) })
}

/** A request with the access token (if any) as Bearer. */
export function call (app: FastifyInstance, access: string | undefined, method: InjectOptions['method'], url: string, payload?: object): Promise<Reply> {
  return app.inject({
    method,
    url,
    ...(access !== undefined && { headers: bearer(access) }),
    ...(payload !== undefined && { payload })
  })
}

/** The problem+json answer with this status and code. */
export function expectProblem (t: Test, res: Reply, status: number, code: string, message = `${status} ${code}`): void {
  t.equal(res.statusCode, status, message)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', `${message}: problem+json`)
  t.equal(res.json().code, code, `${message}: ${res.body.slice(0, 200)}`)
}

/** The claims of a JWT, read without verifying it. */
export function claimsOf (access: string): Record<string, unknown> & { groups: string[], permissions: string[] } {
  return JSON.parse(Buffer.from(access.split('.')[1], 'base64url').toString())
}

/** Creates a group straight in the repository. */
export async function makeGroup (app: FastifyInstance, name: string, permissions: string[] = []) {
  return app.repositories.authorization.createGroup({ id: `group-${name}`, name, permissions, createdAt: new Date() })
}

/** Creates a permission straight in the repository. */
export async function makePermission (app: FastifyInstance, codename: string, description = `Can ${codename}`) {
  return app.repositories.authorization.createPermission({ codename, description, createdAt: new Date() })
}

export const ADMIN_USER_FIELDS = [
  'ban_reason', 'banned_until', 'date_joined', 'email', 'email_verified', 'groups', 'id', 'is_active', 'is_banned',
  'is_staff', 'is_superuser', 'last_login', 'legacy_id', 'mfa', 'permissions', 'providers', 'username'
]

export const BUILTIN_PERMISSIONS = ['audit.view', 'clients.manage', 'groups.manage', 'users.ban', 'users.change', 'users.delete', 'users.view', 'webhooks.manage']
