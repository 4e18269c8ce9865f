// Every table of the service in drizzle's PostgreSQL dialect: the same tables and names as
// db/sqlite/schema.ts, with native booleans and timestamps, plus what several instances need.
import { pgTable, text, boolean, bigint, bigserial, integer, index, primaryKey, uniqueIndex, timestamp as pgTimestamp } from 'drizzle-orm/pg-core'

// Millisecond precision: the same instants as JavaScript's Date, so a value round-trips unchanged.
const timestamp = () => pgTimestamp({ withTimezone: true, mode: 'date', precision: 3 })

export const users = pgTable('users', {
  id: text().primaryKey(),
  /** Stored trimmed and lower-cased, so equality is case-insensitive. */
  email: text().notNull(),
  username: text().notNull(),
  /** The username folded for comparison: uniqueness and look-ups are case-insensitive. */
  usernameKey: text().notNull(),
  /** Null for an account with no usable password (social-only). */
  passwordHash: text(),
  isActive: boolean().notNull().default(true),
  isStaff: boolean().notNull().default(false),
  isSuperuser: boolean().notNull().default(false),
  isBanned: boolean().notNull().default(false),
  banReason: text(),
  bannedUntil: timestamp(),
  emailVerified: boolean().notNull().default(false),
  dateJoined: timestamp().notNull(),
  lastLogin: timestamp(),
  /** The user's numeric id in the Django database it was imported from (`import-django`); null otherwise. */
  legacyId: integer()
}, t => [
  uniqueIndex('users_email_unique').on(t.email),
  uniqueIndex('users_username_key_unique').on(t.usernameKey),
  uniqueIndex('users_legacy_id_unique').on(t.legacyId),
  // The admin list pages newest first by (date_joined, id).
  index('users_date_joined_id_idx').on(t.dateJoined, t.id)
])

/** A session is the chain of refresh tokens descended from one login. */
export const sessions = pgTable('sessions', {
  id: text().primaryKey(),
  userId: text().notNull().references(() => users.id, { onDelete: 'cascade' }),
  createdAt: timestamp().notNull(),
  lastUsedAt: timestamp().notNull(),
  /** The expiry of the newest refresh token: the session is dead after it. */
  expiresAt: timestamp().notNull(),
  revokedAt: timestamp(),
  revokedReason: text(),
  userAgent: text(),
  ip: text(),
  /** How the user authenticated (RFC 8176 `amr` values, space-separated): raised by a step-up. */
  amr: text().notNull().default('pwd')
}, t => [
  index('sessions_user_id_idx').on(t.userId),
  index('sessions_expires_at_idx').on(t.expiresAt),
  index('sessions_revoked_at_idx').on(t.revokedAt)
])

export const refreshTokens = pgTable('refresh_tokens', {
  id: text().primaryKey(),
  sessionId: text().notNull().references(() => sessions.id, { onDelete: 'cascade' }),
  /** SHA-256 of the token (or of the WebAuthn challenge): the token itself is never stored. */
  tokenHash: text().notNull(),
  parentId: text(),
  createdAt: timestamp().notNull(),
  expiresAt: timestamp().notNull(),
  /** Set when this token was exchanged for its successor. */
  rotatedAt: timestamp(),
  successorId: text(),
  /**
   * The successor token sealed with a key derived from this token: lets a replay within the grace
   * window get the same successor back, without the server ever storing a usable token.
   */
  successorSealed: text()
}, t => [
  uniqueIndex('refresh_tokens_token_hash_unique').on(t.tokenHash),
  index('refresh_tokens_session_id_idx').on(t.sessionId),
  index('refresh_tokens_expires_at_idx').on(t.expiresAt)
])

export const signingKeys = pgTable('signing_keys', {
  kid: text().primaryKey(),
  algorithm: text().notNull(),
  /**
   * PKCS#8 PEM, or (with KEY_ENCRYPTION_KEY) `enc:v1:` and that PEM sealed with AES-256-GCM
   * (src/keys/encryption.ts). Generated on first start when no key is configured.
   */
  privateKey: text().notNull(),
  publicJwk: text().notNull(),
  createdAt: timestamp().notNull(),
  retiredAt: timestamp()
})

/**
 * The key settings of the server that started last (algorithm, where the key comes from, rotation
 * schedule), as JSON in one row (id 1): the CLI rotates by the server's settings, not its own environment.
 */
export const keySettings = pgTable('key_settings', {
  id: integer().primaryKey(),
  settings: text().notNull(),
  updatedAt: timestamp().notNull()
})

/** Email verification and password reset tokens: single-use, expiring, stored only as a hash. */
export const oneTimeTokens = pgTable('one_time_tokens', {
  id: text().primaryKey(),
  userId: text().notNull().references(() => users.id, { onDelete: 'cascade' }),
  /** `verify_email` or `reset_password`. */
  purpose: text().notNull(),
  /** SHA-256 of the token. */
  tokenHash: text().notNull(),
  /** The address the token was sent to: verifying it proves control of that address only. */
  email: text().notNull(),
  createdAt: timestamp().notNull(),
  expiresAt: timestamp().notNull(),
  usedAt: timestamp()
}, t => [
  uniqueIndex('one_time_tokens_token_hash_unique').on(t.tokenHash),
  index('one_time_tokens_user_purpose_idx').on(t.userId, t.purpose),
  index('one_time_tokens_expires_at_idx').on(t.expiresAt)
])

/** Permission codenames `<area>.<action>`, such as `posts.add` or the built-in `users.ban`. */
export const permissions = pgTable('permissions', {
  codename: text().primaryKey(),
  description: text().notNull(),
  createdAt: timestamp().notNull()
})

export const groups = pgTable('groups', {
  id: text().primaryKey(),
  name: text().notNull(),
  createdAt: timestamp().notNull()
}, t => [
  uniqueIndex('groups_name_unique').on(t.name)
])

export const groupPermissions = pgTable('group_permissions', {
  groupId: text().notNull().references(() => groups.id, { onDelete: 'cascade' }),
  codename: text().notNull().references(() => permissions.codename, { onDelete: 'cascade' })
}, t => [
  primaryKey({ columns: [t.groupId, t.codename] }),
  index('group_permissions_codename_idx').on(t.codename)
])

export const userGroups = pgTable('user_groups', {
  userId: text().notNull().references(() => users.id, { onDelete: 'cascade' }),
  groupId: text().notNull().references(() => groups.id, { onDelete: 'cascade' })
}, t => [
  primaryKey({ columns: [t.userId, t.groupId] }),
  index('user_groups_group_id_idx').on(t.groupId)
])

export const userPermissions = pgTable('user_permissions', {
  userId: text().notNull().references(() => users.id, { onDelete: 'cascade' }),
  codename: text().notNull().references(() => permissions.codename, { onDelete: 'cascade' })
}, t => [
  primaryKey({ columns: [t.userId, t.codename] }),
  index('user_permissions_codename_idx').on(t.codename)
])

/** A provider identity (Google, GitHub) linked to a user: matched by the provider's user id, never by email. */
export const socialAccounts = pgTable('social_accounts', {
  id: text().primaryKey(),
  provider: text().notNull(),
  providerUserId: text().notNull(),
  userId: text().notNull().references(() => users.id, { onDelete: 'cascade' }),
  /** The address the provider reported at the last login, for operators. */
  email: text(),
  linkedAt: timestamp().notNull(),
  lastLoginAt: timestamp()
}, t => [
  uniqueIndex('social_accounts_provider_user_unique').on(t.provider, t.providerUserId),
  // One identity per provider per user: unlinking names the provider only.
  uniqueIndex('social_accounts_user_provider_unique').on(t.userId, t.provider)
])

/**
 * A server-driven social login between the redirect to the provider and its callback: the PKCE
 * verifier and the nonce never leave the server; single-use, expiring in minutes.
 */
export const socialLoginStates = pgTable('social_login_states', {
  /** SHA-256 of the `state` parameter. */
  stateHash: text().primaryKey(),
  provider: text().notNull(),
  codeVerifier: text().notNull(),
  nonce: text(),
  redirectTo: text().notNull(),
  createdAt: timestamp().notNull(),
  expiresAt: timestamp().notNull()
}, t => [
  index('social_login_states_expires_at_idx').on(t.expiresAt)
])

/**
 * A registered service client (OAuth 2.0 client credentials). The secret is 256 random bits, so its
 * SHA-256 is all that is stored: with that much entropy there is nothing to brute-force, and a slow
 * hash (bcrypt) would only cost CPU on every token request.
 */
export const serviceClients = pgTable('service_clients', {
  id: text().primaryKey(),
  name: text().notNull(),
  /** Space-separated scope tokens (RFC 6749 §3.3), sorted. */
  scopes: text().notNull(),
  /** SHA-256 (hex) of the client secret. */
  secretHash: text().notNull(),
  createdAt: timestamp().notNull(),
  lastUsedAt: timestamp()
})

/**
 * The revocation feed: revoked sessions (`sessionId`), per-user "not before" times (`subject`) and revoked client tokens (`jti`),
 * read by services that verify tokens offline. `seq` is the feed's cursor. A sequence value is taken
 * before commit, so writers take a transaction-scoped advisory lock just before inserting an event
 * (the last statement of their transaction): events then commit in `seq` order, and a poller that
 * has read up to `seq` can never later see a smaller one appear.
 */
export const revocationEvents = pgTable('revocation_events', {
  seq: bigserial({ mode: 'number' }).primaryKey(),
  sessionId: text(),
  subject: text(),
  /** A revoked client access token (RFC 7009), by its `jti`. */
  jti: text(),
  notBefore: timestamp().notNull(),
  createdAt: timestamp().notNull()
}, t => [
  index('revocation_events_created_at_idx').on(t.createdAt)
])

/** Client access tokens revoked before their expiry (RFC 7009), by jti; kept until they expire. */
export const revokedClientTokens = pgTable('revoked_client_tokens', {
  jti: text().primaryKey(),
  clientId: text().notNull(),
  expiresAt: timestamp().notNull()
}, t => [
  index('revoked_client_tokens_expires_at_idx').on(t.expiresAt)
])

/**
 * Fixed-window attempt counters (rate limits, the login throttle, per-address mail limits) shared by
 * every instance when no Redis is configured. UNLOGGED: counters are worth less than the WAL writes
 * of every login; a crash of PostgreSQL empties them, as a Redis restart would.
 */
export const attemptCounters = pgTable('attempt_counters', {
  key: text().primaryKey(),
  count: integer().notNull(),
  resetAt: timestamp().notNull()
}, t => [
  index('attempt_counters_reset_at_idx').on(t.resetAt)
])

/** When each cluster-wide background job last ran: one instance claims a run per interval. */
export const backgroundJobs = pgTable('background_jobs', {
  name: text().primaryKey(),
  lastRunAt: timestamp().notNull(),
  /** Which instance ran it last, for operators. */
  ranBy: text()
})

/**
 * The audit log: one row per event, written in the transaction of the change it describes. `seq` is
 * assigned under the chain head's row lock as the head's seq + 1, so appends from every instance
 * form one chain; `hash` is SHA-256 over the entry's content and `prevHash` (db/audit-chain.ts).
 */
export const auditEvents = pgTable('audit_events', {
  seq: bigint({ mode: 'number' }).primaryKey(),
  id: text().notNull(),
  at: timestamp().notNull(),
  type: text().notNull(),
  /** user, client, cli or system. */
  actorType: text().notNull(),
  actorId: text(),
  subjectId: text(),
  ip: text(),
  userAgent: text(),
  requestId: text(),
  /** A small JSON object; never a password, hash, token or secret. */
  data: text().notNull(),
  prevHash: text().notNull(),
  hash: text().notNull()
}, t => [
  uniqueIndex('audit_events_id_unique').on(t.id),
  index('audit_events_at_idx').on(t.at),
  index('audit_events_type_seq_idx').on(t.type, t.seq),
  index('audit_events_subject_seq_idx').on(t.subjectId, t.seq)
])

/** The chain's head (one row, id 1): locked FOR UPDATE by every append, kept when entries are pruned. */
export const auditHead = pgTable('audit_head', {
  id: integer().primaryKey(),
  seq: bigint({ mode: 'number' }).notNull(),
  hash: text().notNull()
})

/** Signed statements "the chain had this hash at this seq": periodic, and one before each prune. */
export const auditCheckpoints = pgTable('audit_checkpoints', {
  id: text().primaryKey(),
  seq: bigint({ mode: 'number' }).notNull(),
  hash: text().notNull(),
  at: timestamp().notNull(),
  /** periodic, or prune (the entries up to `seq` were deleted). */
  kind: text().notNull(),
  /** A compact JWS over {seq, hash, at, kind}, by a key of the signing key ring. */
  signature: text().notNull()
}, t => [
  index('audit_checkpoints_seq_idx').on(t.seq)
])

/** A webhook subscription. The secret is needed in clear to sign deliveries (HMAC). */
export const webhooks = pgTable('webhooks', {
  id: text().primaryKey(),
  url: text().notNull(),
  /** JSON array of event types. */
  events: text().notNull(),
  description: text(),
  secret: text().notNull(),
  createdAt: timestamp().notNull()
})

/**
 * The outbox: one row per event and subscribed webhook, written in the event's transaction, sent
 * after commit by the dispatcher. A claim sets `leaseUntil` (FOR UPDATE SKIP LOCKED); a process
 * killed mid-delivery leaves a lease that expires, and the row is delivered again, same event id.
 */
export const webhookDeliveries = pgTable('webhook_deliveries', {
  id: text().primaryKey(),
  webhookId: text().notNull().references(() => webhooks.id, { onDelete: 'cascade' }),
  eventSeq: bigint({ mode: 'number' }).notNull(),
  eventId: text().notNull(),
  type: text().notNull(),
  /** The JSON body sent. */
  payload: text().notNull(),
  /** Events of one user are delivered in order: the subject's id, or '' for none. */
  orderingKey: text().notNull(),
  /** pending, delivered or dead. */
  status: text().notNull(),
  attempts: integer().notNull().default(0),
  lastError: text(),
  nextAttemptAt: timestamp().notNull(),
  leaseUntil: timestamp(),
  createdAt: timestamp().notNull()
}, t => [
  index('webhook_deliveries_due_idx').on(t.status, t.nextAttemptAt),
  index('webhook_deliveries_order_idx').on(t.webhookId, t.orderingKey, t.eventSeq)
])

/**
 * The refresh tokens minted by the Django deployment (simplejwt) that were exchanged for a session
 * during the cut-over: each is accepted once, so a second use is reuse. Kept until they expire.
 */
export const djangoRefreshTokens = pgTable('django_refresh_tokens', {
  jti: text().primaryKey(),
  usedAt: timestamp().notNull(),
  expiresAt: timestamp().notNull()
}, t => [
  index('django_refresh_tokens_expires_at_idx').on(t.expiresAt)
])

/** A user's TOTP factor (RFC 6238): pending until a first code confirms it. */
export const mfaTotp = pgTable('mfa_totp', {
  userId: text().primaryKey().references(() => users.id, { onDelete: 'cascade' }),
  /** The shared secret, sealed with AES-256-GCM under a key derived from KEY_ENCRYPTION_KEY: never plain. */
  secret: text().notNull(),
  createdAt: timestamp().notNull(),
  confirmedAt: timestamp(),
  /** The time step of the last accepted code: a code of this step or an earlier one is a replay. */
  lastUsedStep: integer()
})

/** Recovery codes: only their SHA-256, each usable once. */
export const mfaRecoveryCodes = pgTable('mfa_recovery_codes', {
  id: text().primaryKey(),
  userId: text().notNull().references(() => users.id, { onDelete: 'cascade' }),
  codeHash: text().notNull(),
  createdAt: timestamp().notNull(),
  usedAt: timestamp()
}, t => [
  uniqueIndex('mfa_recovery_codes_user_code_unique').on(t.userId, t.codeHash)
])

/** WebAuthn credentials (passkeys, security keys): a second factor, and a first one when user-verified. */
export const passkeys = pgTable('passkeys', {
  id: text().primaryKey(),
  userId: text().notNull().references(() => users.id, { onDelete: 'cascade' }),
  /** The credential id, base64url: what an assertion names. */
  credentialId: text().notNull(),
  /** The COSE public key, base64url: public, never a secret. */
  publicKey: text().notNull(),
  /** The authenticator's signature counter at its last use (0 for authenticators that keep none). */
  counter: bigint({ mode: 'number' }).notNull(),
  /** JSON array of the transports the browser reported (usb, nfc, ble, internal, hybrid). */
  transports: text().notNull(),
  aaguid: text().notNull(),
  /** Whether the credential may be synced (a multi-device passkey) and whether it is. */
  backupEligible: boolean().notNull(),
  backedUp: boolean().notNull(),
  name: text().notNull(),
  createdAt: timestamp().notNull(),
  lastUsedAt: timestamp()
}, t => [
  uniqueIndex('passkeys_credential_id_unique').on(t.credentialId),
  index('passkeys_user_id_idx').on(t.userId)
])

/** Short-lived single-use secrets of the MFA flows: `mfa_token`s between the two factors of a login, and WebAuthn challenges. */
export const mfaChallenges = pgTable('mfa_challenges', {
  id: text().primaryKey(),
  /** `login` (an mfa_token), or a WebAuthn challenge: `passkey_registration`, `passkey_login`, `webauthn_mfa`, `webauthn_step_up`. */
  purpose: text().notNull(),
  /** SHA-256 of the token (or of the WebAuthn challenge): the token itself is never stored. */
  tokenHash: text().notNull(),
  userId: text().references(() => users.id, { onDelete: 'cascade' }),
  /** JSON: what the flow carries from the first step to the next (the first factor's `amr`). */
  data: text().notNull(),
  createdAt: timestamp().notNull(),
  expiresAt: timestamp().notNull(),
  usedAt: timestamp()
}, t => [
  uniqueIndex('mfa_challenges_token_hash_unique').on(t.tokenHash),
  index('mfa_challenges_expires_at_idx').on(t.expiresAt)
])
