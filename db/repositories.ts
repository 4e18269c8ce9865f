// Storage interfaces the domain depends on: plain records, Promises, no drizzle or fastify types,
// so that another database can be added without touching domain code or routes.

export interface UserRecord {
  id: string
  email: string
  username: string
  passwordHash: string | null
  isActive: boolean
  isStaff: boolean
  isSuperuser: boolean
  isBanned: boolean
  banReason: string | null
  bannedUntil: Date | null
  emailVerified: boolean
  dateJoined: Date
  lastLogin: Date | null
  /** The user's id in the Django database it was imported from, if it was. */
  legacyId?: number | null
}

/** The user without its secrets and ban reason: what authenticating a request needs. */
export type UserSummary = Omit<UserRecord, 'passwordHash' | 'banReason'>

/** What authenticating an access token needs about its session. */
export interface SessionState {
  id: string
  revokedAt: Date | null
  expiresAt: Date
}

export interface NewUser {
  id: string
  email: string
  username: string
  passwordHash: string | null
  dateJoined: Date
  emailVerified?: boolean
  isStaff?: boolean
  isSuperuser?: boolean
}

export type UserPatch = Partial<Pick<UserRecord,
  'email' | 'username' | 'passwordHash' | 'isActive' | 'isStaff' | 'isSuperuser' | 'isBanned' |
  'banReason' | 'bannedUntil' | 'emailVerified' | 'lastLogin'>>

export interface SessionRecord {
  id: string
  userId: string
  createdAt: Date
  lastUsedAt: Date
  expiresAt: Date
  revokedAt: Date | null
  userAgent: string | null
  ip: string | null
  /** How the user authenticated (RFC 8176 values), raised by a step-up. */
  amr: string[]
}

export interface RefreshTokenRecord {
  id: string
  sessionId: string
  parentId: string | null
  createdAt: Date
  expiresAt: Date
  rotatedAt: Date | null
}

/** A refresh token about to be stored: only its hash, never the token. */
export interface NewRefreshToken {
  id: string
  tokenHash: string
  expiresAt: Date
}

export interface NewSession {
  id: string
  userId: string
  createdAt: Date
  userAgent: string | null
  ip: string | null
  firstToken: NewRefreshToken
  /** How the user authenticated (RFC 8176 values); `['pwd']` when not given. */
  amr?: string[]
  /** A stronger hash of the password just verified, stored with the login. */
  upgradedPasswordHash?: string
  /**
   * What the login checked about the user: the session is created only if the user's row still says
   * the same when it is (else AccountChanged), so a password change, reset or ban that lands while
   * the password is being compared ends that login too, and an upgraded hash never overwrites a newer password.
   */
  expect?: LoginPrecondition
  /** Audit events written with the session (user.login). */
  events?: NewAuditEvent[]
}

export interface LoginPrecondition {
  /** The hash the password was verified against; left out by a login that used no password (a provider). */
  passwordHash?: string | null
  isActive: boolean
  isBanned: boolean
  bannedUntil: Date | null
}

/** A change to a user that ends its sessions, written in one transaction with their revocation. */
export interface AccountChange {
  patch: Pick<UserPatch, 'passwordHash' | 'emailVerified' | 'isActive' | 'isBanned' | 'banReason' | 'bannedUntil'>
  /** Compare-and-set: nothing is written unless this is still the stored password hash. */
  expectedPasswordHash?: string | null
  now: Date
  /** The revocation reason recorded on the sessions. */
  reason: string
  /** This session stays (a password change keeps the session it was made from). */
  keepSessionId?: string
  /** Audit events written with the change, only if it is made. */
  events?: NewAuditEvent[]
}

export interface RotationRequest {
  tokenHash: string
  now: Date
  /** A replay of a rotated token within this many ms of its rotation returns the same successor. */
  graceMs: number
  successor: NewRefreshToken & {
    /** The successor sealed with a key only the presented token can derive. */
    sealed: string
  }
  ip: string | null
  userAgent: string | null
  /** The audit event to write, for the session's user, when the token turns out to be reused. */
  onReuse?: (userId: string) => NewAuditEvent
}

/**
 * What happened to a presented refresh token, decided atomically:
 * - `rotated`: it was live; the successor given in the request is now the live token.
 * - `replayed`: it was rotated within the grace window and its successor is still live; the
 *   sealed successor is returned so the caller can hand the same token out again.
 * - `reused`: it was rotated earlier (or its successor already moved on): the session is revoked.
 * - `invalid`: unknown, expired, or its session is revoked or expired.
 */
export type RotationOutcome =
  | { kind: 'rotated', session: SessionRecord, user: UserRecord }
  | { kind: 'replayed', session: SessionRecord, user: UserRecord, sealedSuccessor: string, successorExpiresAt: Date }
  | { kind: 'reused', sessionId: string }
  | { kind: 'invalid' }

export interface UserRepository {
  /** Throws UniqueViolation when the email or username is taken. */
  create (user: NewUser, events?: NewAuditEvent[]): Promise<UserRecord>
  findById (id: string): Promise<UserRecord | undefined>
  findByEmail (email: string): Promise<UserRecord | undefined>
  findByUsername (username: string): Promise<UserRecord | undefined>
  /** Throws UniqueViolation when a new email or username is taken. */
  update (id: string, patch: UserPatch, events?: NewAuditEvent[]): Promise<UserRecord | undefined>
  /**
   * Newest first (by date joined, then id), at most `limit`, after the `after` position (a cursor);
   * `query` matches a substring of the email or the username, case-insensitively.
   */
  list (options: { query?: string, limit: number, after?: { dateJoined: Date, id: string } }): Promise<UserRecord[]>
  /**
   * Deletes the user; its sessions, tokens, memberships and permissions go with it, and a revocation
   * event for the user is recorded first.
   */
  delete (id: string, now: Date, events?: NewAuditEvent[]): Promise<boolean>
}

export interface SessionRepository {
  /**
   * A login, in one transaction: the session, its first refresh token, and the user's `lastLogin`
   * (and upgraded password hash, if any). Throws AccountChanged, writing nothing, when the user no
   * longer matches `session.expect`.
   */
  create (session: NewSession): Promise<SessionRecord>
  /**
   * Writes `change.patch` to the user and revokes its sessions (all but `keepSessionId`) in one
   * transaction; undefined, writing nothing, when there is no such user or its password hash is no
   * longer `expectedPasswordHash`.
   */
  updateUserAndRevoke (userId: string, change: AccountChange): Promise<{ user: UserRecord, revoked: number } | undefined>
  /** The session's state and its user (with its groups, permissions and providers), for authenticating an access token: one query. */
  findAuthState (sessionId: string): Promise<{ session: SessionState, user: UserSummary, authorization: Authorization, providers: string[] } | undefined>
  /** The session a refresh token belongs to, with its user. */
  findByTokenHash (tokenHash: string): Promise<{ token: RefreshTokenRecord, session: SessionRecord, user: UserRecord } | undefined>
  rotate (request: RotationRequest): Promise<RotationOutcome>
  /** Sessions that are neither revoked nor expired at `now`, newest first. */
  listLive (userId: string, now: Date): Promise<SessionRecord[]>
  /** Replaces the session's `amr` (a step-up); false when there is no such live session of this user. */
  raiseAuthentication (userId: string, sessionId: string, amr: string[], now: Date): Promise<boolean>
  /** Revokes one session of this user; false when there is no such live session. */
  revoke (userId: string, sessionId: string, now: Date, reason: string, events?: NewAuditEvent[]): Promise<boolean>
  /** Revokes every live session of the user except `keepSessionId`; returns how many. */
  revokeAll (userId: string, now: Date, reason: string, keepSessionId?: string, events?: NewAuditEvent[]): Promise<number>
  /** Deletes at most `limit` expired tokens and sessions, and sessions revoked before `revokedBefore`. */
  prune (now: Date, revokedBefore: Date, limit: number): Promise<number>
}

export interface SigningKeyRecord {
  kid: string
  algorithm: string
  privateKey: string
  publicJwk: string
  createdAt: Date
  retiredAt: Date | null
}

export interface KeyRotationRequest {
  /** The new key (with `retiredAt` null); none to only retire the live keys. */
  key?: SigningKeyRecord
  now: Date
  /** When the live keys stop signing; a key already due to retire earlier keeps its date. */
  retireAt: Date
  /** Do nothing when a live key of this algorithm was created after `liveSince`. */
  unless?: { algorithm: string, liveSince: Date }
  /** Only live keys of this algorithm retire (every live key when neither this nor `exceptAlgorithm` is given). */
  onlyAlgorithm?: string
  /** Live keys of this algorithm do not retire. */
  exceptAlgorithm?: string
  /** Audit events written when a key is stored. */
  events?: NewAuditEvent[]
}

export interface SigningKeyRepository {
  /** Oldest first. */
  list (): Promise<SigningKeyRecord[]>
  /**
   * In one transaction that holds the write lock from the start, so that two processes rotating at
   * once serialise and the second sees the first's key: checks `unless`, schedules every live key
   * (not retired at `now`; of `onlyAlgorithm`, not of `exceptAlgorithm`) to retire at `retireAt`,
   * and stores the new key.
   */
  rotate (request: KeyRotationRequest): Promise<{ rotated: boolean, retired: string[] }>
  /** Deletes the keys retired at or before `before`; returns how many. */
  deleteRetiredBefore (before: Date): Promise<number>
  /** Compare-and-set of a key's stored private key (to encrypt it at rest); false when it was no longer `expected`. */
  replacePrivateKey (kid: string, expected: string, privateKey: string): Promise<boolean>
  /** The key settings the server stored last (JSON), if any. */
  settings (): Promise<string | undefined>
  /** Stores the server's key settings (JSON), replacing the previous ones. */
  saveSettings (settings: string, at: Date): Promise<void>
}

export type OneTimeTokenPurpose = 'verify_email' | 'reset_password'

export interface NewOneTimeToken {
  id: string
  userId: string
  purpose: OneTimeTokenPurpose
  tokenHash: string
  /** The address the token is sent to. */
  email: string
  createdAt: Date
  expiresAt: Date
}

/** A live (unused, unexpired) one-time token. */
export interface OneTimeTokenRecord {
  id: string
  userId: string
  purpose: OneTimeTokenPurpose
  email: string
  expiresAt: Date
}

export interface OneTimeTokenRepository {
  /** Stores a token and retires every older unused token of the same user and purpose. */
  issue (token: NewOneTimeToken): Promise<void>
  /** The live token with this hash and purpose, without using it up. */
  findLive (tokenHash: string, purpose: OneTimeTokenPurpose, now: Date): Promise<OneTimeTokenRecord | undefined>
  /** Marks the live token used; returns it, or undefined if it was not live (already used, expired, unknown). */
  consume (tokenHash: string, purpose: OneTimeTokenPurpose, now: Date): Promise<OneTimeTokenRecord | undefined>
  /** Deletes at most `limit` used or expired tokens. */
  prune (now: Date, limit: number): Promise<number>
}

/** A user's groups and effective permissions (its own and its groups'; every one for a superuser), sorted. */
export interface Authorization {
  groups: string[]
  permissions: string[]
}

export interface PermissionRecord {
  codename: string
  description: string
}

export interface GroupRecord {
  id: string
  name: string
  /** Sorted codenames. */
  permissions: string[]
}

export interface AuthorizationRepository {
  forUser (user: { id: string, isSuperuser: boolean }): Promise<Authorization>
  /** The user's own groups and own permissions (not those it has through groups). */
  direct (userId: string): Promise<{ groups: GroupRecord[], permissions: string[] }>
  listPermissions (): Promise<PermissionRecord[]>
  /** Which of these codenames exist. */
  existingPermissions (codenames: string[]): Promise<string[]>
  /** Throws UniqueViolation('codename') when it exists. */
  createPermission (permission: PermissionRecord & { createdAt: Date }): Promise<PermissionRecord>
  listGroups (): Promise<GroupRecord[]>
  findGroup (id: string): Promise<GroupRecord | undefined>
  findGroupsByName (names: string[]): Promise<GroupRecord[]>
  /** Throws UniqueViolation('name') when the name is taken. */
  createGroup (group: GroupRecord & { createdAt: Date }): Promise<GroupRecord>
  /** Throws UniqueViolation('name') when the new name is taken. */
  /**
   * `membersChanged` makes the events of a permission change for the group's members (read in the
   * transaction): a group's permissions are its members' permissions.
   */
  updateGroup (id: string, patch: { name?: string, permissions?: string[] }, membersChanged?: MembersChanged): Promise<GroupRecord | undefined>
  deleteGroup (id: string, membersChanged?: MembersChanged): Promise<boolean>
  /** Replaces the user's group memberships. */
  setUserGroups (userId: string, groupIds: string[], events?: NewAuditEvent[]): Promise<void>
  /** Replaces the user's own permissions. */
  setUserPermissions (userId: string, codenames: string[], events?: NewAuditEvent[]): Promise<void>
}

/** A provider identity linked to a user. */
export interface SocialAccountRecord {
  id: string
  provider: string
  providerUserId: string
  userId: string
  email: string | null
  linkedAt: Date
  lastLoginAt: Date | null
}

/** A server-driven social login waiting for its callback. */
export interface SocialLoginState {
  provider: string
  codeVerifier: string
  nonce: string | null
  redirectTo: string
  expiresAt: Date
}

export interface SocialAccountRepository {
  find (provider: string, providerUserId: string): Promise<SocialAccountRecord | undefined>
  /** The providers linked to the user, sorted. */
  providersOf (userId: string): Promise<string[]>
  /** Throws UniqueViolation('provider') when the identity, or this provider for this user, is linked already. */
  link (account: SocialAccountRecord): Promise<void>
  /** A new user and its first identity, in one transaction: both or neither. */
  createUserWithLink (user: NewUser, account: SocialAccountRecord, events?: NewAuditEvent[]): Promise<UserRecord>
  recordLogin (id: string, now: Date, email: string | null): Promise<void>
  /** Unlinks, in one transaction, unless it is the user's last way in (no password, no other provider). */
  unlink (userId: string, provider: string): Promise<'unlinked' | 'not_linked' | 'last_login_method'>
  saveState (stateHash: string, state: SocialLoginState & { createdAt: Date }): Promise<void>
  /** Deletes and returns the state if it is live: a state works once. */
  consumeState (stateHash: string, now: Date): Promise<SocialLoginState | undefined>
  /** Deletes at most `limit` expired states. */
  pruneStates (now: Date, limit: number): Promise<number>
}

/** A registered service client, without its secret. */
export interface ServiceClientRecord {
  id: string
  name: string
  /** Sorted scope tokens. */
  scopes: string[]
  createdAt: Date
  lastUsedAt: Date | null
}

export interface ServiceClientRepository {
  create (client: ServiceClientRecord & { secretHash: string }, events?: NewAuditEvent[]): Promise<ServiceClientRecord>
  /** Every client, oldest first. */
  list (): Promise<ServiceClientRecord[]>
  /** The client with the hash of its secret, for authenticating it. */
  findWithSecret (id: string): Promise<(ServiceClientRecord & { secretHash: string }) | undefined>
  /** Deletes the client and records a revocation event for its id (its tokens die with it). */
  delete (id: string, now: Date, events?: NewAuditEvent[]): Promise<boolean>
  /** Sets `lastUsedAt` unless it was set less than `minIntervalMs` ago: at most one write per interval. */
  touch (id: string, now: Date, minIntervalMs: number): Promise<void>
  /**
   * Denylists a client access token by its jti until it expires and, in the same transaction, records
   * it in the revocation feed (once: revoking it again records nothing).
   */
  revokeToken (token: { jti: string, clientId: string, expiresAt: Date }, now: Date): Promise<void>
  isTokenRevoked (jti: string): Promise<boolean>
  /** Deletes at most `limit` denylist entries of tokens expired before `now`. */
  pruneRevokedTokens (now: Date, limit: number): Promise<number>
}

/**
 * An entry of the revocation feed: a revoked session (`sessionId`), a subject (a user or client
 * id) whose tokens issued before `notBefore` are revoked, or a revoked client access token (`jti`).
 * Written by the session, user and client repositories themselves, in the same transaction as the revocation.
 */
export interface RevocationEvent {
  seq: number
  sessionId: string | null
  subject: string | null
  jti: string | null
  notBefore: Date
  createdAt: Date
}

export interface RevocationRepository {
  /** Events after `afterSeq`, or else created at or after `since`, in feed order, at most `limit`. */
  list (options: { afterSeq?: number, since?: Date, limit: number }): Promise<RevocationEvent[]>
  /** The newest event's seq; 0 when there is none. */
  latestSeq (): Promise<number>
  /**
   * The highest seq ever drawn, pruned events included (SQLite's AUTOINCREMENT record, PostgreSQL's
   * sequence): no cursor the feed handed out is above it, so one that is was never issued here.
   */
  issuedSeq (): Promise<number>
  /** Deletes at most `limit` events created before `before`. */
  prune (before: Date, limit: number): Promise<number>
}

/** A user's TOTP factor; `secret` as stored (sealed). */
export interface TotpRecord {
  secret: string
  createdAt: Date
  confirmedAt: Date | null
  lastUsedStep: number | null
}

/**
 * What a challenge is for: `login` is an mfa_token; the others are WebAuthn challenges (registering
 * a passkey, a passwordless login, a second factor after a password, a step-up).
 */
export type MfaChallengePurpose = 'login' | 'passkey_registration' | 'passkey_login' | 'webauthn_mfa' | 'webauthn_step_up'

export interface NewMfaChallenge {
  id: string
  purpose: MfaChallengePurpose
  tokenHash: string
  userId: string | null
  /** JSON. */
  data: string
  createdAt: Date
  expiresAt: Date
}

export interface MfaChallengeRecord {
  id: string
  userId: string | null
  data: string
  expiresAt: Date
}

/** Which second factors a user has (never their secrets). */
export interface MfaFactors {
  /** A confirmed TOTP factor. */
  totp: boolean
  /** How many passkeys the user has registered. */
  passkeys: number
  recoveryCodesLeft: number
}

/** A registered WebAuthn credential; `publicKey` is the COSE key, base64url (public, not a secret). */
export interface PasskeyRecord {
  id: string
  userId: string
  credentialId: string
  publicKey: string
  counter: number
  transports: string[]
  aaguid: string
  backupEligible: boolean
  backedUp: boolean
  name: string
  createdAt: Date
  lastUsedAt: Date | null
}

export interface PasskeyRepository {
  listByUser (userId: string): Promise<PasskeyRecord[]>
  findByCredentialId (credentialId: string): Promise<PasskeyRecord | undefined>
  /** Stores a new passkey; false (nothing written) when this credential id is registered already. */
  create (passkey: PasskeyRecord, events?: NewAuditEvent[]): Promise<boolean>
  /** Renames the user's passkey; undefined when the user has no such passkey. */
  rename (userId: string, id: string, name: string): Promise<PasskeyRecord | undefined>
  /** Deletes the user's passkey and, when the user has no other second factor left, its recovery codes. */
  delete (userId: string, id: string, events?: NewAuditEvent[]): Promise<boolean>
  /**
   * Records a use: the counter moves from `expectedCounter` to `counter` (atomic, so two uses of the
   * same counter value cannot both succeed); false when the stored counter changed meanwhile.
   */
  recordUse (id: string, expectedCounter: number, counter: number, backedUp: boolean, now: Date): Promise<boolean>
}

export interface MfaRepository {
  findTotp (userId: string): Promise<TotpRecord | undefined>
  /** Stores a pending TOTP secret, replacing a pending one; false (nothing written) when a confirmed one exists. */
  savePendingTotp (userId: string, secret: string, now: Date): Promise<boolean>
  /**
   * Confirms the pending factor with the step of its first code and, in the same transaction,
   * replaces the user's recovery codes; false when there is no pending factor (or it was confirmed meanwhile).
   */
  confirmTotp (userId: string, step: number, recoveryCodeHashes: string[], now: Date, events?: NewAuditEvent[]): Promise<boolean>
  /** Records `step` as used if it is later than the last used one (atomic): false for a replay. */
  useTotpStep (userId: string, step: number): Promise<boolean>
  /** Deletes the TOTP factor and, when the user has no other second factor left, its recovery codes. */
  deleteTotp (userId: string, events?: NewAuditEvent[]): Promise<boolean>
  /** Replaces the user's recovery codes (the old ones die). */
  replaceRecoveryCodes (userId: string, codeHashes: string[], now: Date): Promise<void>
  /** Marks the unused code with this hash used (atomic): false when there is none. */
  useRecoveryCode (userId: string, codeHash: string, now: Date): Promise<boolean>
  factors (userId: string): Promise<MfaFactors>
  /** Deletes every second factor (TOTP, passkeys) and recovery code of the user; whether there was any. */
  deleteAll (userId: string, events?: NewAuditEvent[]): Promise<boolean>
  issueChallenge (challenge: NewMfaChallenge): Promise<void>
  /** The live (unused, unexpired) challenge with this hash and purpose, without using it up. */
  findChallenge (tokenHash: string, purpose: MfaChallengePurpose, now: Date): Promise<MfaChallengeRecord | undefined>
  /** Marks the live challenge used (atomic); false when it was not live. */
  consumeChallenge (id: string, now: Date): Promise<boolean>
  /** Deletes at most `limit` used or expired challenges. */
  pruneChallenges (now: Date, limit: number): Promise<number>
}

/** A fixed-window counter: how many attempts `key` has had in the window that ends at `resetAt`. */
export interface AttemptWindow {
  count: number
  resetAt: Date
}

/**
 * Attempt counters in the database, for a database that several instances share (PostgreSQL without
 * Redis): rate limits, the login throttle and mail limits count the same for every instance.
 */
export interface AttemptCounterRepository {
  /** Adds one to `key` in its current window, opening a new window of `windowMs` if the last one ended; atomic. */
  increment (key: string, windowMs: number, now: Date): Promise<AttemptWindow>
  /** The count of `key` in its current window, if one is open at `now`. */
  get (key: string, now: Date): Promise<AttemptWindow | undefined>
  /** Takes one back from `key` in its window open at `now`, never below 0; atomic. */
  decrement (key: string, now: Date): Promise<void>
  delete (key: string): Promise<void>
  /** Deletes at most `limit` windows that ended before `now`. */
  prune (now: Date, limit: number): Promise<number>
}

export interface BackgroundJobRepository {
  /**
   * Claims this interval's run of a cluster-wide job: true for exactly one caller per `intervalMs`
   * however many instances ask at once (the others get false), recording `now` and `instance`.
   */
  claim (name: string, intervalMs: number, now: Date, instance: string): Promise<boolean>
}

/** A user of the Django database, as `import-django` writes it. */
export interface ImportedUser {
  legacyId: number
  /** Lower-cased. */
  email: string
  username: string
  /** Django's hash as it is, or null for an unusable password. */
  passwordHash: string | null
  /**
   * Whether the address was verified there (django-allauth's verified EmailAddress, or the operator's
   * --emails-verified). A later import never takes back a verification made here for the same address.
   */
  emailVerified: boolean
  isActive: boolean
  isStaff: boolean
  isSuperuser: boolean
  dateJoined: Date
  lastLogin: Date | null
  /** Names of its groups, all among the import's groups. */
  groups: string[]
  /** Its own permission codenames, all among the import's permissions. */
  permissions: string[]
}

export interface DjangoImportPlan {
  permissions: PermissionRecord[]
  groups: Array<{ name: string, permissions: string[] }>
  users: ImportedUser[]
  /**
   * Refresh tokens the Django deployment blacklisted (simplejwt's token_blacklist app) and that have
   * not expired: recorded as already exchanged, so that the cut-over refuses them as Django did.
   */
  blacklistedRefreshTokens: Array<{ jti: string, expiresAt: Date }>
  now: Date
  /** A new id for a user or group. */
  newId: () => string
  /**
   * Whether a stored password hash of an imported user stays as it is on a second import (it was
   * set here since: a login re-hashed it, or a reset), rather than being replaced by Django's.
   */
  keepsPasswordHash: (stored: string | null) => boolean
  /** Roll everything back at the end: the counts are what a real run would do. */
  dryRun: boolean
  /** The audit events of what the import did to one user, written in the import's transaction. */
  events: (change: ImportedUserChange) => NewAuditEvent[]
}

/** What an import did to one user: created it, or changed its fields and/or its groups and permissions. */
export interface ImportedUserChange {
  userId: string
  user: ImportedUser
  created: boolean
  fieldsChanged: boolean
  accessChanged: boolean
}

export interface DjangoImportCounts {
  usersCreated: number
  usersUpdated: number
  usersUnchanged: number
  groupsCreated: number
  groupsUpdated: number
  permissionsCreated: number
  /** Blacklisted Django refresh tokens recorded as exchanged by this run (not those an earlier run recorded). */
  blacklistedTokensRecorded: number
}

/** An existing user an import must not collide with. */
export interface ExistingIdentity {
  id: string
  legacyId: number | null
  email: string
  usernameKey: string
}

export interface DjangoRepository {
  /** Every user's identifiers: an import finds its conflicts before it writes. */
  identities (): Promise<ExistingIdentity[]>
  /**
   * Writes the import in one transaction: permissions and groups created or brought in line by name,
   * users created or updated by legacy id (their memberships among the import's groups and
   * permissions replaced; others they have here are kept). Throws UniqueViolation, writing nothing,
   * when an email or username was taken meanwhile.
   */
  apply (plan: DjangoImportPlan): Promise<DjangoImportCounts>
  /** The user imported from this Django id. */
  findUserByLegacyId (legacyId: number): Promise<UserRecord | undefined>
  /** Records a Django refresh token as exchanged: false, recording nothing, when it already was. */
  useRefreshToken (jti: string, expiresAt: Date, now: Date): Promise<boolean>
  /** Takes back useRefreshToken when the exchange it was for failed. */
  releaseRefreshToken (jti: string): Promise<void>
  /** Deletes at most `limit` recorded tokens that have expired; how many. */
  pruneRefreshTokens (now: Date, limit: number): Promise<number>
}

export interface HealthRepository {
  /** Throws when the database cannot answer. */
  ping (): Promise<void>
}

export type AuditActorType = 'user' | 'client' | 'cli' | 'system'

/** The audit events of a change that reaches every member of a group, given the members' ids. */
export type MembersChanged = (memberIds: string[]) => NewAuditEvent[]

/** An event to record, written by a repository inside the transaction of the change it describes. */
export interface NewAuditEvent {
  id: string
  at: Date
  type: string
  actorType: AuditActorType
  actorId: string | null
  subjectId: string | null
  ip: string | null
  userAgent: string | null
  requestId: string | null
  /** Small and free of secrets: never a password, hash, token or secret. */
  data: Record<string, unknown>
}

/** A stored audit entry: its place in the chain, `data` as its stored JSON text. */
export interface AuditEventRecord extends Omit<NewAuditEvent, 'data'> {
  seq: number
  data: string
  prevHash: string
  hash: string
}

export interface AuditCheckpoint {
  id: string
  seq: number
  hash: string
  at: Date
  kind: 'periodic' | 'prune'
  signature: string
}

export interface AuditFilter {
  type?: string
  subjectId?: string
  since?: Date
  until?: Date
}

export interface AuditRepository {
  /** Records events with no other change (in their own transaction): the chain and the outbox as any append. */
  append (events: NewAuditEvent[]): Promise<void>
  /** Entries after `afterSeq` matching the filter, oldest first, at most `limit`. */
  list (options: AuditFilter & { afterSeq?: number, limit: number }): Promise<AuditEventRecord[]>
  /** The chain's head: the last seq and hash ever written (0 and the genesis hash before any). */
  head (): Promise<{ seq: number, hash: string }>
  /** Every checkpoint, by seq then time. */
  checkpoints (): Promise<AuditCheckpoint[]>
  addCheckpoint (checkpoint: AuditCheckpoint): Promise<void>
  /** The last of the (at most `limit`) oldest entries before `before`: what a prune batch would delete up to. */
  pruneBoundary (before: Date, limit: number): Promise<{ seq: number, hash: string } | undefined>
  /** In one transaction: stores the prune checkpoint and deletes every entry up to its seq; returns how many. */
  pruneThrough (checkpoint: AuditCheckpoint): Promise<number>
}

export interface WebhookRecord {
  id: string
  url: string
  events: string[]
  description: string | null
  createdAt: Date
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead'

export interface DeliveryRecord {
  id: string
  webhookId: string
  eventSeq: number
  eventId: string
  type: string
  status: DeliveryStatus
  attempts: number
  lastError: string | null
  nextAttemptAt: Date
}

/** A claimed delivery, with what sending it needs. */
export interface ClaimedDelivery extends DeliveryRecord {
  payload: string
  url: string
  secret: string
  /** When the claim lapses: the outcome is written only while it holds. */
  leaseUntil: Date
}

export interface WebhookRepository {
  create (webhook: WebhookRecord & { secret: string }): Promise<WebhookRecord>
  /** Oldest first. */
  list (): Promise<WebhookRecord[]>
  find (id: string): Promise<WebhookRecord | undefined>
  update (id: string, patch: { url?: string, events?: string[], description?: string | null }): Promise<WebhookRecord | undefined>
  /** Deletes the webhook and its deliveries. */
  delete (id: string): Promise<boolean>
  /** The webhook's deliveries, newest event first, after `beforeSeq` (a cursor), at most `limit`. */
  deliveries (webhookId: string, options: { status?: DeliveryStatus, before?: { eventSeq: number, id: string }, limit: number }): Promise<DeliveryRecord[]>
  /**
   * Claims at most `limit` due deliveries (pending, next attempt reached, no live lease) that have no
   * earlier pending delivery of the same webhook and ordering key (events of one user in order),
   * leasing each until `leaseUntil`; two dispatchers never claim the same row.
   */
  claimDue (now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]>
  /** Records an attempt's outcome while the lease holds: delivered, retried at `nextAttemptAt`, or dead (null). */
  finish (id: string, leaseUntil: Date, outcome: { delivered: true } | { delivered: false, error: string, nextAttemptAt: Date | null }): Promise<void>
  /** Makes a delivery due now again (a dead one too); false when there is no such delivery of this webhook. */
  retry (webhookId: string, deliveryId: string, now: Date): Promise<boolean>
  /** Deletes at most `limit` delivered or dead deliveries made before `before` (never a pending one); how many. */
  pruneDeliveries (before: Date, limit: number): Promise<number>
}

export interface Repositories {
  users: UserRepository
  sessions: SessionRepository
  signingKeys: SigningKeyRepository
  oneTimeTokens: OneTimeTokenRepository
  authorization: AuthorizationRepository
  socialAccounts: SocialAccountRepository
  health: HealthRepository
  serviceClients: ServiceClientRepository
  revocations: RevocationRepository
  backgroundJobs: BackgroundJobRepository
  audit: AuditRepository
  webhooks: WebhookRepository
  django: DjangoRepository
  mfa: MfaRepository
  passkeys: PasskeyRepository
  /** Only where several instances share the database (PostgreSQL); SQLite's single instance counts in memory. */
  attempts?: AttemptCounterRepository
}

/** A unique constraint refused the write; `field` names the API field at fault. */
export class UniqueViolation extends Error {
  constructor (readonly field: 'email' | 'username' | 'name' | 'codename' | 'provider') {
    super(`${field} already exists`)
    this.name = 'UniqueViolation'
  }
}

/** The user changed (password, activity, ban) between the checks of a login and its session: no session. */
export class AccountChanged extends Error {
  constructor () {
    super('the account changed while logging in')
    this.name = 'AccountChanged'
  }
}
