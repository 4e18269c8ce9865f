// django/: moving from Django — its user base, password hashes, simplejwt routes and tokens.
// The import of a Django user base: read auth_user (or a custom user table), its groups and permissions, and decide what to write and what to refuse.
import { randomUUID } from 'node:crypto'
import type { DjangoSource } from '../../db/django-source.js'
import type { DjangoImportCounts, ExistingIdentity, ImportedUser, ImportedUserChange, NewAuditEvent, PermissionRecord, Repositories } from '../../db/repositories.js'
import { auditEvent } from '../audit/events.js'
import { normaliseEmail, usernameKey } from '../accounts/identifiers.js'
import { bcryptCost } from '../passwords/hasher.js'

// The register route's rules (src/schemas/fields.ts): an imported account is one the API could have made.
const EMAIL_PATTERN = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i
const USERNAME_PATTERN = /^[\p{L}\p{N}_.@+-]+$/u
const CODENAME_PART = /^[a-z][a-z0-9_]*$/
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

export class DjangoImportError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'DjangoImportError'
  }
}

/** A user row of the Django database that is not imported, and why. */
export interface RefusedRow {
  legacyId: number
  username: string
  email: string
  reason: string
}

export interface DjangoImportReport extends DjangoImportCounts {
  refused: RefusedRow[]
  /** Django permissions whose codename cannot be a Portcullis codename (`<app_label>.<codename>`), skipped. */
  skippedPermissions: string[]
  /** Whether anything was written: false for a dry run, or when rows were refused and skipping was not asked for. */
  written: boolean
}

export interface DjangoImportOptions {
  userTable: string
  dryRun: boolean
  /** Import the valid rows even though some were refused; by default any refused row writes nothing. */
  skipRefused: boolean
  /** The operator vouches that Django verified every address (else only django-allauth's verified ones count). */
  emailsVerified: boolean
  now: Date
}

const quote = (identifier: string) => `"${identifier}"`

function asDate (value: unknown): Date | null {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return value
  // Django's SQLite backend stores "2019-03-14 09:26:53.123456" in UTC (USE_TZ), sometimes with an offset.
  const text = String(value).replace(' ', 'T')
  const date = new Date(/(Z|[+-]\d{2}:?\d{2})$/.test(text) ? text : `${text}Z`)
  return Number.isNaN(date.getTime()) ? null : date
}

const asBoolean = (value: unknown) => value === true || value === 1 || value === '1' || value === 't'

/** The column of a Django many-to-many table that points at the user (`user_id`, or `<model>_id` for a custom model). */
async function userColumn (source: DjangoSource, table: string, other: string): Promise<string | undefined> {
  const columns = await source.columns(table)
  return columns.find(column => column.endsWith('_id') && column !== other && column !== 'id')
}

interface DjangoData {
  permissions: PermissionRecord[]
  skippedPermissions: string[]
  groups: Array<{ name: string, permissions: string[] }>
  users: Array<ImportedUser & { rawEmail: string }>
  blacklistedRefreshTokens: Array<{ jti: string, expiresAt: Date }>
}

/**
 * The refresh tokens simplejwt's token_blacklist app blacklisted (a logout, a rotation with
 * BLACKLIST_AFTER_ROTATION); none when the app was not installed.
 */
async function readBlacklist (source: DjangoSource): Promise<DjangoData['blacklistedRefreshTokens']> {
  const [outstanding, blacklisted] = await Promise.all([source.columns('token_blacklist_outstandingtoken'), source.columns('token_blacklist_blacklistedtoken')])
  if (outstanding.length === 0 || blacklisted.length === 0) return []
  const rows = await source.rows(`SELECT o.jti, o.expires_at FROM token_blacklist_outstandingtoken o
    JOIN token_blacklist_blacklistedtoken b ON b.token_id = o.id`)
  return rows.flatMap(row => {
    const expiresAt = asDate(row.expires_at)
    return typeof row.jti === 'string' && row.jti !== '' && expiresAt !== null ? [{ jti: row.jti, expiresAt }] : []
  })
}

/**
 * The addresses django-allauth verified (its account_emailaddress table), lower-cased, by user id;
 * empty when allauth was not installed.
 */
async function readVerifiedEmails (source: DjangoSource): Promise<Map<number, Set<string>>> {
  const verified = new Map<number, Set<string>>()
  const columns = await source.columns('account_emailaddress')
  if (!['email', 'verified', 'user_id'].every(column => columns.includes(column))) return verified
  for (const row of await source.rows('SELECT user_id, email FROM account_emailaddress WHERE verified')) {
    const userId = Number(row.user_id)
    verified.set(userId, (verified.get(userId) ?? new Set()).add(normaliseEmail(String(row.email))))
  }
  return verified
}

/**
 * Reads what the import needs from the Django database. `emailsVerified`: the operator vouches that
 * every address was verified there; otherwise an address is verified when django-allauth says so.
 */
export async function readDjango (source: DjangoSource, userTable: string, emailsVerified = false): Promise<DjangoData> {
  if (!IDENTIFIER.test(userTable)) throw new DjangoImportError(`"${userTable}" is not a table name.`)
  const needed = ['id', 'password', 'last_login', 'is_superuser', 'username', 'email', 'is_staff', 'is_active', 'date_joined']
  const userColumns = await source.columns(userTable)
  if (userColumns.length === 0) throw new DjangoImportError(`The Django database has no table ${userTable} (use --user-table for a custom user model).`)
  const missing = needed.filter(column => !userColumns.includes(column))
  if (missing.length > 0) throw new DjangoImportError(`The table ${userTable} lacks Django's AbstractUser columns: ${missing.join(', ')}.`)
  for (const table of ['auth_permission', 'auth_group', 'auth_group_permissions', 'django_content_type']) {
    if ((await source.columns(table)).length === 0) throw new DjangoImportError(`The Django database has no table ${table}: is it a Django database?`)
  }

  const codenameById = new Map<number, string>()
  const permissions: PermissionRecord[] = []
  const skippedPermissions: string[] = []
  const permissionRows = await source.rows(`SELECT p.id, p.codename, p.name, c.app_label FROM auth_permission p
    JOIN django_content_type c ON c.id = p.content_type_id ORDER BY p.id`)
  for (const row of permissionRows) {
    const appLabel = String(row.app_label)
    const codename = String(row.codename)
    const full = `${appLabel}.${codename}`
    if (!CODENAME_PART.test(appLabel) || !CODENAME_PART.test(codename) || full.length > 100) {
      skippedPermissions.push(full)
      continue
    }
    codenameById.set(Number(row.id), full)
    permissions.push({ codename: full, description: String(row.name ?? full).slice(0, 255) })
  }

  const groupNameById = new Map<number, string>()
  const groupPermissions = new Map<number, string[]>()
  for (const row of await source.rows('SELECT id, name FROM auth_group ORDER BY id')) {
    groupNameById.set(Number(row.id), String(row.name))
    groupPermissions.set(Number(row.id), [])
  }
  for (const row of await source.rows('SELECT group_id, permission_id FROM auth_group_permissions')) {
    const codename = codenameById.get(Number(row.permission_id))
    if (codename !== undefined) groupPermissions.get(Number(row.group_id))?.push(codename)
  }
  const groups = [...groupNameById].map(([id, name]) => ({ name, permissions: groupPermissions.get(id) ?? [] }))

  const userGroups = new Map<number, string[]>()
  const userPermissions = new Map<number, string[]>()
  const memberships = `${userTable}_groups`
  const memberColumn = await userColumn(source, memberships, 'group_id')
  if (memberColumn !== undefined) {
    for (const row of await source.rows(`SELECT ${quote(memberColumn)} AS user_id, group_id FROM ${quote(memberships)}`)) {
      const name = groupNameById.get(Number(row.group_id))
      if (name !== undefined) userGroups.set(Number(row.user_id), [...(userGroups.get(Number(row.user_id)) ?? []), name])
    }
  }
  const grants = `${userTable}_user_permissions`
  const grantColumn = await userColumn(source, grants, 'permission_id')
  if (grantColumn !== undefined) {
    for (const row of await source.rows(`SELECT ${quote(grantColumn)} AS user_id, permission_id FROM ${quote(grants)}`)) {
      const codename = codenameById.get(Number(row.permission_id))
      if (codename !== undefined) userPermissions.set(Number(row.user_id), [...(userPermissions.get(Number(row.user_id)) ?? []), codename])
    }
  }

  const verifiedEmails = await readVerifiedEmails(source)
  const users = (await source.rows(`SELECT ${needed.map(quote).join(', ')} FROM ${quote(userTable)} ORDER BY id`)).map(row => {
    const legacyId = Number(row.id)
    const password = typeof row.password === 'string' ? row.password : ''
    const email = normaliseEmail(typeof row.email === 'string' ? row.email : '')
    return {
      legacyId,
      rawEmail: typeof row.email === 'string' ? row.email : '',
      email,
      emailVerified: email !== '' && (emailsVerified || verifiedEmails.get(legacyId)?.has(email) === true),
      username: typeof row.username === 'string' ? row.username : '',
      // Django's unusable password (`!` and random text), or none at all: no password here (reset or social login).
      passwordHash: password === '' || password.startsWith('!') ? null : password,
      isActive: asBoolean(row.is_active),
      isStaff: asBoolean(row.is_staff),
      isSuperuser: asBoolean(row.is_superuser),
      dateJoined: asDate(row.date_joined) ?? new Date(0),
      lastLogin: asDate(row.last_login),
      groups: userGroups.get(legacyId) ?? [],
      permissions: userPermissions.get(legacyId) ?? []
    }
  })
  return { permissions, skippedPermissions, groups, users, blacklistedRefreshTokens: await readBlacklist(source) }
}

/** Which users are imported and which are refused, against the users already here. */
export function planUsers (users: DjangoData['users'], existing: ExistingIdentity[]): { accepted: ImportedUser[], refused: RefusedRow[] } {
  const byLegacyId = new Map(existing.filter(u => u.legacyId !== null).map(u => [u.legacyId!, u]))
  const byEmail = new Map(existing.map(u => [u.email, u]))
  const byUsername = new Map(existing.map(u => [u.usernameKey, u]))
  // Emails and usernames that more than one Django row has (case-insensitively): all of those rows are refused.
  const count = (keys: string[]) => keys.reduce((map, key) => map.set(key, (map.get(key) ?? 0) + 1), new Map<string, number>())
  const emailCount = count(users.map(u => u.email))
  const usernameCount = count(users.map(u => usernameKey(u.username)))
  const accepted: ImportedUser[] = []
  const refused: RefusedRow[] = []
  for (const { rawEmail, ...user } of users) {
    const refuse = (reason: string) => refused.push({ legacyId: user.legacyId, username: user.username, email: rawEmail, reason })
    const key = usernameKey(user.username)
    // The row this user already has here (a previous import): its own email and username are no conflict.
    const self = byLegacyId.get(user.legacyId)
    if (user.email === '') refuse('no email address')
    else if (user.email.length > 254 || !EMAIL_PATTERN.test(user.email)) refuse('the email address is not valid')
    else if (user.username === '' || user.username.length > 150 || !USERNAME_PATTERN.test(user.username)) refuse('the username is not valid')
    else if ((emailCount.get(user.email) ?? 0) > 1) refuse('another Django user has the same email address (compared case-insensitively)')
    else if ((usernameCount.get(key) ?? 0) > 1) refuse('another Django user has the same username (compared case-insensitively)')
    else if (byEmail.has(user.email) && byEmail.get(user.email)!.id !== self?.id) refuse('a Portcullis account that was not imported from this user has this email address')
    else if (byUsername.has(key) && byUsername.get(key)!.id !== self?.id) refuse('a Portcullis account that was not imported from this user has this username')
    else accepted.push(user)
  }
  return { accepted, refused }
}

/** user.created for a new user; user.updated and permissions.changed for what a later run changed. */
function importEvents (deps: { now (): Date }, change: ImportedUserChange): NewAuditEvent[] {
  const { userId, user } = change
  if (change.created) return [auditEvent(deps, 'user.created', userId, { username: user.username, email: user.email, source: 'django', legacy_id: user.legacyId })]
  return [
    ...(change.fieldsChanged ? [auditEvent(deps, 'user.updated', userId, { source: 'django', legacy_id: user.legacyId })] : []),
    ...(change.accessChanged ? [auditEvent(deps, 'permissions.changed', userId, { groups: [...user.groups].sort(), permissions: [...user.permissions].sort() })] : [])
  ]
}

/**
 * Imports the Django user base in one transaction. Refused rows are reported; unless `skipRefused`,
 * any refused row writes nothing at all, so a run never stops half-way.
 */
export async function importDjango (repositories: Pick<Repositories, 'django'>, source: DjangoSource, options: DjangoImportOptions): Promise<DjangoImportReport> {
  const data = await readDjango(source, options.userTable, options.emailsVerified)
  const { accepted, refused } = planUsers(data.users, await repositories.django.identities())
  const write = !options.dryRun && (refused.length === 0 || options.skipRefused)
  const counts = await repositories.django.apply({
    permissions: data.permissions,
    groups: data.groups,
    users: accepted,
    // An expired one is refused by its exp anyway.
    blacklistedRefreshTokens: data.blacklistedRefreshTokens.filter(token => token.expiresAt > options.now),
    now: options.now,
    newId: randomUUID,
    // A bcrypt hash was made here (a login re-hashed Django's, or a reset): Django's older one must not replace it.
    keepsPasswordHash: stored => stored !== null && bcryptCost(stored) !== undefined,
    dryRun: !write,
    events: change => importEvents({ now: () => options.now }, change)
  })
  return { ...counts, refused, skippedPermissions: data.skippedPermissions, written: write }
}
