// The service configuration: its schema, and loadConfig(env) that reads and validates the environment.
import { isIP } from 'node:net'
import { availableParallelism } from 'node:os'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { databaseKind } from '../db/database-url.js'
import { parseDuration } from './runtime/durations.js'
import { privateKeyProblem } from './keys/material.js'
import { readSocialConfig, SocialConfig } from './social/config.js'

export const SigningAlgorithm = Type.Union([
  Type.Literal('RS256'),
  Type.Literal('ES256'),
  Type.Literal('EdDSA'),
  Type.Literal('HS256')
])
export type SigningAlgorithm = Static<typeof SigningAlgorithm>

export const LogLevel = Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)))

/** `max` requests per `windowSeconds`; `max: 0` turns the limit off. */
export const RateLimit = Type.Object({
  max: Type.Integer({ minimum: 0 }),
  windowSeconds: Type.Integer({ minimum: 1 })
})
export type RateLimit = Static<typeof RateLimit>

export const Config = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  host: Type.String({ minLength: 1 }),
  databaseUrl: Type.String({ minLength: 1, description: '`postgres://…` or `postgresql://…` (PostgreSQL), `file:<path>` or `:memory:` (SQLite)' }),
  databasePoolMax: Type.Integer({ minimum: 1, maximum: 1000, description: 'PostgreSQL: the most connections the pool opens' }),
  databaseConnectTimeout: Type.Integer({ minimum: 1, description: 'seconds; PostgreSQL: how long start-up retries an unreachable server' }),
  databaseBusyTimeout: Type.Integer({ minimum: 0, description: 'seconds; SQLite: how long a call waits, without blocking the event loop, for another process\'s write lock before answering 503' }),
  publicUrl: Type.String({ minLength: 1 }),
  jwtIssuer: Type.String({ minLength: 1 }),
  jwtAudience: Type.String({ minLength: 1 }),
  jwtAlgorithm: SigningAlgorithm,
  jwtPrivateKey: Type.Optional(Type.String({ minLength: 1, description: 'PEM or JWK (JSON) private key' })),
  jwtSecret: Type.Optional(Type.String({ minLength: 32, description: 'HS256 shared secret' })),
  keyEncryptionKey: Type.Optional(Type.String({ minLength: 32, description: 'random secret of 32 bytes or more: the stored signing private keys are encrypted under it' })),
  jwksMaxAge: Type.Integer({ minimum: 0, maximum: 86400, description: 'seconds the JWKS may be cached; a rotated key is published this long (plus the reload interval) before it signs' }),
  jwtKeyRotationInterval: Type.Integer({ minimum: 0, description: 'seconds; rotate the signing key when it is this old; 0: only on demand' }),
  jwtKeyReloadInterval: Type.Integer({ minimum: 1, maximum: 60, description: 'seconds between re-reads of the key ring, for rotations made by other processes' }),
  accessTokenTtl: Type.Integer({ minimum: 1, description: 'seconds' }),
  refreshTokenTtl: Type.Integer({ minimum: 1, description: 'seconds' }),
  refreshReuseGrace: Type.Integer({ minimum: 0, description: 'seconds' }),
  refreshTokenInBody: Type.Boolean(),
  cookieSecure: Type.Boolean(),
  allowedOrigins: Type.Array(Type.String()),
  bcryptCost: Type.Integer({ minimum: 4, maximum: 17 }),
  hashWorkers: Type.Integer({ minimum: 1, maximum: 64 }),
  logLevel: LogLevel,
  docsEnabled: Type.Boolean({ description: 'serve Swagger UI and the OpenAPI document at /docs' }),
  pruneIntervalSeconds: Type.Integer({ minimum: 0, description: '0 turns the background pruner off' }),
  smtpUrl: Type.Optional(Type.String({ minLength: 1, description: 'smtp(s)://user:pass@host:port; unset: mails go to the log' })),
  mailFrom: Type.String({ minLength: 3 }),
  verifyEmailUrl: Type.String({ minLength: 1, description: 'link target of verification mails; token=… is appended' }),
  resetPasswordUrl: Type.String({ minLength: 1, description: 'link target of reset mails; token=… is appended' }),
  verifyEmailTtl: Type.Integer({ minimum: 60, description: 'seconds' }),
  passwordResetTtl: Type.Integer({ minimum: 60, description: 'seconds' }),
  passwordCommonCheck: Type.Boolean({ description: 'refuse the passwords of Django\'s common-password list' }),
  passwordMaxSimilarity: Type.Number({ minimum: 0, maximum: 1, description: 'Django\'s max_similarity against the username and email; 0 turns the check off' }),
  pwnedPasswordsUrl: Type.Optional(Type.String({ minLength: 1, description: 'base URL of a Pwned Passwords range API; unset: no breached-password check' })),
  requireEmailVerification: Type.Boolean(),
  django: Type.Object({
    compat: Type.Boolean({ description: 'simplejwt\'s routes (/api/token/...)' }),
    usernameField: Type.Union([Type.Literal('email'), Type.Literal('username')], { description: 'the field /api/token/ logs in with' }),
    cutover: Type.Optional(Type.Object({
      signingKey: Type.String({ minLength: 1, description: 'the key the Django deployment signed its tokens with (SIGNING_KEY, else SECRET_KEY)' }),
      algorithm: Type.Union([Type.Literal('HS256'), Type.Literal('HS384'), Type.Literal('HS512')]),
      userIdClaim: Type.String({ minLength: 1 }),
      accessTokenLifetime: Type.Integer({ minimum: 1, description: 'seconds: access tokens older than this are refused whatever their exp' }),
      refreshTokenLifetime: Type.Integer({ minimum: 1, description: 'seconds: refresh tokens older than this are refused whatever their exp' })
    }, { description: 'set by DJANGO_SECRET_KEY: Django-minted tokens are accepted during the cut-over' }))
  }),
  webauthn: Type.Object({
    rpId: Type.String({ minLength: 1, description: 'the WebAuthn relying party id: the domain passkeys are bound to' }),
    rpName: Type.String({ minLength: 1, description: 'the name authenticators show when a passkey is made' }),
    origins: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'the origins whose WebAuthn responses are accepted' })
  }),
  mfaRequiredFor: Type.Union([Type.Literal('none'), Type.Literal('staff'), Type.Literal('superuser'), Type.Literal('all')], { description: 'who must have a second factor: without one they can log in, but admin operations (for `all`, every protected operation but enrolment) answer 403 mfa_enrolment_required' }),
  registrationEnumerationSafe: Type.Boolean(),
  mailRetryDelays: Type.Array(Type.Integer({ minimum: 0 }), { description: 'ms to wait before each retry of a failed mail' }),
  auditRetention: Type.Integer({ minimum: 0, description: 'seconds an audit entry is kept; 0 keeps every entry' }),
  auditSigningKey: Type.Optional(Type.String({ minLength: 32, description: 'secret (32 bytes or more, kept outside the database) the audit checkpoints are signed with (HMAC-SHA256); unset: checkpoints unsigned' })),
  webhookRetryDelays: Type.Array(Type.Integer({ minimum: 0 }), { description: 'ms to wait before each retry of a failed webhook delivery; after the last the delivery is dead' }),
  webhookTimeout: Type.Integer({ minimum: 1, description: 'ms an attempt may take' }),
  webhookConcurrency: Type.Integer({ minimum: 1, description: 'deliveries in flight at once per instance' }),
  webhookDeliveryRetention: Type.Integer({ minimum: 0, description: 'seconds a delivered or dead webhook delivery is kept (0: for ever); pending ones are never pruned' }),
  webhookAllowPrivate: Type.Boolean({ description: 'allow http and private, loopback and link-local targets (tests, closed networks)' }),
  trustProxy: Type.Union([Type.Boolean(), Type.Integer({ minimum: 1 }), Type.Array(Type.String())]),
  social: SocialConfig,
  redisUrl: Type.Optional(Type.String({ minLength: 1, description: 'redis:// or rediss://; unset: the limits count in the database (PostgreSQL) or in memory (SQLite)' })),
  redisKeyPrefix: Type.String({ minLength: 1, description: 'prefix of every Redis key, so that deployments can share one Redis' }),
  rateLimits: Type.Object({
    loginFailuresPerAccount: RateLimit,
    loginFailuresPerIp: RateLimit,
    /** Wrong second-factor codes (login, step-up), per account. */
    mfaFailuresPerAccount: RateLimit,
    registerPerIp: RateLimit,
    emailPerIp: RateLimit,
    emailPerAddress: RateLimit,
    tokenPerIp: RateLimit,
    refreshPerIp: RateLimit,
    /** POST /oauth/token, /oauth/introspect and /oauth/revoke, per client address. */
    oauthPerIp: RateLimit,
    /** POST /api/auth/login requests of any outcome, per client address. */
    loginPerIp: RateLimit,
    /** POST /api/auth/token/verify, per client address. */
    verifyPerIp: RateLimit
  }),
  rateLimitIpv6Prefix: Type.Integer({ minimum: 1, maximum: 128, description: 'an IPv6 client counts in the per-address limits by its network of this many bits' })
}, { additionalProperties: false })
export type Config = Static<typeof Config>

export class ConfigError extends Error {
  constructor (readonly variable: string, message: string) {
    super(`Invalid configuration: ${variable} ${message}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

function read (env: Env, name: string): string | undefined {
  const value = env[name]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

function integer (env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`)
  return value
}

function duration (env: Env, name: string, fallback: string, min: number): number {
  const raw = read(env, name) ?? fallback
  const seconds = parseDuration(raw)
  if (seconds === undefined) throw new ConfigError(name, `must be a duration such as 30s, 5m, 12h or 7d, got "${raw}"`)
  if (seconds < min) throw new ConfigError(name, `must be at least ${min} seconds, got "${raw}"`)
  return seconds
}

/** A duration, or `off` (and `0`), which is 0. */
/** Seconds, or 0 for `off` (or `0`); `fallback` when unset. */
function durationOrOff (env: Env, name: string, min: number, fallback = 'off'): number {
  const raw = read(env, name) ?? fallback
  if (raw.toLowerCase() === 'off' || raw === '0') return 0
  return duration(env, name, raw, min)
}

/** DJANGO_*: the simplejwt routes, and the Django deployment's token settings for the cut-over. */
function djangoConfig (env: Env): Config['django'] {
  const secretKey = read(env, 'DJANGO_SECRET_KEY')
  const signingKey = read(env, 'DJANGO_SIGNING_KEY') ?? secretKey
  if (read(env, 'DJANGO_SIGNING_KEY') !== undefined && secretKey === undefined) {
    throw new ConfigError('DJANGO_SIGNING_KEY', 'is read only with DJANGO_SECRET_KEY, which turns the cut-over on')
  }
  return {
    compat: boolean(env, 'DJANGO_COMPAT', false),
    usernameField: oneOf(env, 'DJANGO_USERNAME_FIELD', 'email', ['email', 'username'] as const),
    ...(secretKey !== undefined && signingKey !== undefined && {
      cutover: {
        signingKey,
        // simplejwt's HMAC algorithms only: an RS/ES deployment would give its public key, which is not supported.
        algorithm: oneOf(env, 'DJANGO_JWT_ALGORITHM', 'HS256', ['HS256', 'HS384', 'HS512'] as const),
        userIdClaim: read(env, 'DJANGO_USER_ID_CLAIM') ?? 'user_id',
        accessTokenLifetime: duration(env, 'DJANGO_ACCESS_TOKEN_LIFETIME', '5m', 1),
        refreshTokenLifetime: duration(env, 'DJANGO_REFRESH_TOKEN_LIFETIME', '1d', 1)
      }
    })
  }
}

function boolean (env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  const lower = raw.toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(lower)) return true
  if (['false', '0', 'no', 'off'].includes(lower)) return false
  throw new ConfigError(name, `must be true or false, got "${raw}"`)
}

function url (env: Env, name: string, fallback: string): string {
  const raw = read(env, name) ?? fallback
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    throw new ConfigError(name, `must be an absolute http(s) URL, got "${raw}"`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(name, `must be an absolute http(s) URL, got "${raw}"`)
  }
  return raw.replace(/\/+$/, '')
}

function origins (env: Env, name: string): string[] {
  const raw = read(env, name)
  if (raw === undefined) return []
  return raw.split(',').map(s => s.trim()).filter(Boolean).map(origin => {
    try {
      return new URL(origin).origin
    } catch {
      throw new ConfigError(name, `must be a comma-separated list of origins such as https://app.example.com, got "${origin}"`)
    }
  })
}

/**
 * WEBAUTHN_*: the relying party. Its id defaults to PUBLIC_URL's host name and the origins to
 * PUBLIC_URL's origin; every origin must be the id or a subdomain of it, or browsers would refuse
 * every ceremony (and a mistyped id would bind passkeys to a domain no one can use).
 */
function webauthnConfig (env: Env, publicUrl: string): Config['webauthn'] {
  const rpId = (read(env, 'WEBAUTHN_RP_ID') ?? new URL(publicUrl).hostname).toLowerCase()
  if (!/^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(rpId)) {
    throw new ConfigError('WEBAUTHN_RP_ID', `must be a domain name such as example.com (no scheme, port or path), got "${rpId}"`)
  }
  const listed = origins(env, 'WEBAUTHN_ORIGINS')
  const allowed = listed.length > 0 ? listed : [new URL(publicUrl).origin]
  for (const origin of allowed) {
    const { hostname } = new URL(origin)
    if (hostname !== rpId && !hostname.endsWith(`.${rpId}`)) {
      throw new ConfigError('WEBAUTHN_ORIGINS', `must be origins on WEBAUTHN_RP_ID (${rpId}) or its subdomains, got "${origin}"`)
    }
  }
  return { rpId, rpName: read(env, 'WEBAUTHN_RP_NAME') ?? 'Portcullis', origins: allowed }
}

/** "5/5m": at most 5 in any 5 minutes; "off" (or "0") turns the limit off. */
function rateLimit (env: Env, name: string, fallback: string): RateLimit {
  const raw = read(env, name) ?? fallback
  if (raw.toLowerCase() === 'off' || raw === '0') return { max: 0, windowSeconds: 60 }
  const match = /^(\d+)\s*\/\s*(.+)$/.exec(raw)
  const windowSeconds = match ? parseDuration(match[2]) : undefined
  if (!match || windowSeconds === undefined || windowSeconds < 1) {
    throw new ConfigError(name, `must be <count>/<duration> such as 5/5m, or off, got "${raw}"`)
  }
  return { max: Number(match[1]), windowSeconds }
}

/** Django's UserAttributeSimilarityValidator max_similarity: 0.1 to 1 (Django refuses less), or off (0). */
function similarity (env: Env, name: string, fallback: number): number {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  if (raw.toLowerCase() === 'off' || raw === '0') return 0
  const value = /^(?:\d+\.?\d*|\.\d+)$/.test(raw) ? Number(raw) : NaN
  if (!(value >= 0.1 && value <= 1)) throw new ConfigError(name, `must be a number from 0.1 to 1, or off, got "${raw}"`)
  return value
}

/** The Redis URL; the error never repeats the value, which may hold a password. */
function redisUrl (env: Env): string | undefined {
  const raw = read(env, 'REDIS_URL')
  if (raw === undefined) return undefined
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    throw new ConfigError('REDIS_URL', 'must be a URL such as redis://host:6379 or rediss://user:pass@host:6380')
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError('REDIS_URL', 'must start with redis:// or rediss://')
  }
  if (parsed.hostname === '') throw new ConfigError('REDIS_URL', 'must name a host, such as redis://host:6379')
  if (!/^\/(\d+)?$/.test(parsed.pathname || '/')) throw new ConfigError('REDIS_URL', 'may end only in a database number, such as redis://host:6379/0')
  return raw
}

/** Fastify's trustProxy: true/false, a hop count, or a comma-separated list of addresses and CIDRs. */
function trustProxy (env: Env): boolean | number | string[] {
  const raw = read(env, 'TRUST_PROXY')
  if (raw === undefined) return false
  const lower = raw.toLowerCase()
  if (lower === 'true') return true
  if (lower === 'false') return false
  if (/^\d+$/.test(raw)) {
    if (Number(raw) < 1) throw new ConfigError('TRUST_PROXY', 'as a hop count must be at least 1')
    return Number(raw)
  }
  const entries = raw.split(',').map(s => s.trim()).filter(Boolean)
  if (entries.length === 0) throw new ConfigError('TRUST_PROXY', 'must name at least one address')
  for (const entry of entries) {
    // Checked here, not left to Fastify: a bad entry would otherwise crash the start with a bare TypeError.
    const [address, bits, ...rest] = entry.split('/')
    const family = isIP(address)
    const prefixOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32))
    if (family === 0 || rest.length > 0 || !prefixOk) {
      throw new ConfigError('TRUST_PROXY', `must be true, false, a hop count, or addresses/CIDRs such as 127.0.0.1,10.0.0.0/8, got "${entry}"`)
    }
  }
  return entries
}

function durationList (env: Env, name: string, fallback: string): number[] {
  const raw = read(env, name) ?? fallback
  if (raw.toLowerCase() === 'none') return []
  return raw.split(',').map(part => {
    const seconds = parseDuration(part.trim())
    if (seconds === undefined) throw new ConfigError(name, `must be a comma-separated list of durations such as 1s,10s,1m, or none, got "${raw}"`)
    return seconds * 1000
  })
}

function smtpUrl (env: Env): string | undefined {
  const raw = read(env, 'SMTP_URL')
  if (raw === undefined) return undefined
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    throw new ConfigError('SMTP_URL', 'must be a URL such as smtp://user:pass@host:587')
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') {
    throw new ConfigError('SMTP_URL', 'must start with smtp:// or smtps://')
  }
  if (parsed.hostname === '') throw new ConfigError('SMTP_URL', 'must name a host, such as smtp://user:pass@host:587')
  return raw
}

/** The From header: an address, or a display name with the address in angle brackets. */
function mailFrom (env: Env, fallback: string): string {
  const raw = read(env, 'MAIL_FROM') ?? fallback
  if (!/^(?:[^<>]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/.test(raw)) {
    throw new ConfigError('MAIL_FROM', `must be an address such as no-reply@example.com or Portcullis <no-reply@example.com>, got "${raw}"`)
  }
  return raw
}

function oneOf<T extends string> (env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = read(env, name) ?? fallback
  const match = allowed.find(a => a.toLowerCase() === raw.toLowerCase())
  if (match === undefined) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`)
  return match
}

/** The database: PostgreSQL by URL scheme, else SQLite. The error never repeats the value, which may hold a password. */
function databaseUrl (env: Env): string {
  const raw = read(env, 'DATABASE_URL') ?? 'file:./data/portcullis.db'
  const kind = databaseKind(raw)
  if (kind === undefined) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1]
    const got = scheme === undefined ? '' : ` (got a ${scheme}: URL)`
    throw new ConfigError('DATABASE_URL', `must be postgres://…, postgresql://… (PostgreSQL), file:<path> or :memory: (SQLite)${got}`)
  }
  if (kind === 'postgres' && !URL.canParse(raw)) {
    throw new ConfigError('DATABASE_URL', 'must be a URL such as postgres://user:password@host:5432/database')
  }
  return raw
}

/** Reads the private key from JWT_PRIVATE_KEY or the file JWT_PRIVATE_KEY_FILE names. */
function privateKey (env: Env, readFile: (path: string) => string): string | undefined {
  const inline = read(env, 'JWT_PRIVATE_KEY')
  const file = read(env, 'JWT_PRIVATE_KEY_FILE')
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError('JWT_PRIVATE_KEY_FILE', 'cannot be set together with JWT_PRIVATE_KEY')
  }
  if (file === undefined) return inline?.replace(/\\n/g, '\n')
  try {
    return readFile(file)
  } catch (err) {
    throw new ConfigError('JWT_PRIVATE_KEY_FILE', `cannot be read: ${(err as Error).message}`)
  }
}

export interface LoadConfigOptions {
  readFile?: (path: string) => string
}

export function loadConfig (env: Env, options: LoadConfigOptions = {}): Config {
  const readFile = options.readFile ?? (() => { throw new Error('reading files is not available') })
  const port = integer(env, 'PORT', 3000, 0, 65535)
  const publicUrl = url(env, 'PUBLIC_URL', `http://localhost:${port}`)
  const jwtAlgorithm = oneOf(env, 'JWT_ALGORITHM', 'RS256', ['RS256', 'ES256', 'EdDSA', 'HS256'] as const)
  const jwtSecret = read(env, 'JWT_SECRET')
  if (jwtAlgorithm === 'HS256' && (jwtSecret === undefined || Buffer.byteLength(jwtSecret) < 32)) {
    throw new ConfigError('JWT_SECRET', 'must be set to at least 32 bytes when JWT_ALGORITHM is HS256')
  }
  const jwtPrivateKey = privateKey(env, readFile)
  const auditSigningKey = read(env, 'AUDIT_SIGNING_KEY')
  if (auditSigningKey !== undefined && Buffer.byteLength(auditSigningKey) < 32) {
    throw new ConfigError('AUDIT_SIGNING_KEY', 'must be a random secret of at least 32 bytes, such as the output of `openssl rand -base64 32`')
  }
  const keyEncryptionKey = read(env, 'KEY_ENCRYPTION_KEY')
  if (keyEncryptionKey !== undefined && Buffer.byteLength(keyEncryptionKey) < 32) {
    throw new ConfigError('KEY_ENCRYPTION_KEY', 'must be a random secret of at least 32 bytes, such as the output of `openssl rand -base64 32`')
  }
  const smtp = smtpUrl(env)
  const redis = redisUrl(env)
  if (jwtAlgorithm === 'HS256' && jwtPrivateKey !== undefined) {
    throw new ConfigError('JWT_PRIVATE_KEY', 'cannot be used with JWT_ALGORITHM=HS256 (set JWT_SECRET instead)')
  }
  if (jwtAlgorithm !== 'HS256' && jwtPrivateKey !== undefined) {
    // Checked here, not when the keys load: a garbage key is a configuration error (exit 78) that
    // names the variable, not a parser's stack trace.
    const problem = privateKeyProblem(jwtPrivateKey, jwtAlgorithm)
    if (problem !== undefined) throw new ConfigError(read(env, 'JWT_PRIVATE_KEY_FILE') === undefined ? 'JWT_PRIVATE_KEY' : 'JWT_PRIVATE_KEY_FILE', problem)
  }

  const config: Config = {
    port,
    host: read(env, 'HOST') ?? '127.0.0.1',
    databaseUrl: databaseUrl(env),
    databasePoolMax: integer(env, 'DATABASE_POOL_MAX', 10, 1, 1000),
    databaseConnectTimeout: duration(env, 'DATABASE_CONNECT_TIMEOUT', '30s', 1),
    databaseBusyTimeout: duration(env, 'DATABASE_BUSY_TIMEOUT', '2s', 0),
    publicUrl,
    jwtIssuer: read(env, 'JWT_ISSUER') ?? publicUrl,
    jwtAudience: read(env, 'JWT_AUDIENCE') ?? 'portcullis',
    jwtAlgorithm,
    ...(jwtPrivateKey !== undefined && { jwtPrivateKey }),
    ...(jwtAlgorithm === 'HS256' && jwtSecret !== undefined && { jwtSecret }),
    ...(keyEncryptionKey !== undefined && { keyEncryptionKey }),
    jwksMaxAge: duration(env, 'JWKS_MAX_AGE', '5m', 0),
    // At least an hour: every rotation keeps the previous key published for a while, so a
    // shorter interval would mostly grow the key set.
    jwtKeyRotationInterval: durationOrOff(env, 'JWT_KEY_ROTATION_INTERVAL', 3600),
    jwtKeyReloadInterval: duration(env, 'JWT_KEY_RELOAD_INTERVAL', '10s', 1),
    accessTokenTtl: duration(env, 'ACCESS_TOKEN_TTL', '5m', 1),
    refreshTokenTtl: duration(env, 'REFRESH_TOKEN_TTL', '7d', 60),
    refreshReuseGrace: duration(env, 'REFRESH_REUSE_GRACE', '10s', 0),
    refreshTokenInBody: boolean(env, 'REFRESH_TOKEN_IN_BODY', true),
    cookieSecure: boolean(env, 'COOKIE_SECURE', true),
    allowedOrigins: origins(env, 'ALLOWED_ORIGINS'),
    bcryptCost: integer(env, 'BCRYPT_COST', 10, 4, 17),
    hashWorkers: integer(env, 'HASH_WORKERS', availableParallelism(), 1, 64),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    docsEnabled: boolean(env, 'DOCS_ENABLED', true),
    pruneIntervalSeconds: duration(env, 'PRUNE_INTERVAL', '60s', 0),
    ...(smtp !== undefined && { smtpUrl: smtp }),
    mailFrom: mailFrom(env, `Portcullis <no-reply@${new URL(publicUrl).hostname}>`),
    verifyEmailUrl: url(env, 'VERIFY_EMAIL_URL', `${publicUrl}/api/auth/verify-email`),
    resetPasswordUrl: url(env, 'RESET_PASSWORD_URL', `${publicUrl}/api/auth/password/reset/confirm`),
    verifyEmailTtl: duration(env, 'VERIFY_EMAIL_TTL', '48h', 60),
    passwordResetTtl: duration(env, 'PASSWORD_RESET_TTL', '1h', 60),
    passwordCommonCheck: boolean(env, 'PASSWORD_COMMON_CHECK', true),
    passwordMaxSimilarity: similarity(env, 'PASSWORD_MAX_SIMILARITY', 0.7),
    ...(read(env, 'PWNED_PASSWORDS_URL') !== undefined && { pwnedPasswordsUrl: url(env, 'PWNED_PASSWORDS_URL', '') }),
    requireEmailVerification: boolean(env, 'REQUIRE_EMAIL_VERIFICATION', false),
    django: djangoConfig(env),
    webauthn: webauthnConfig(env, publicUrl),
    mfaRequiredFor: oneOf(env, 'MFA_REQUIRED_FOR', 'none', ['none', 'staff', 'superuser', 'all'] as const),
    registrationEnumerationSafe: boolean(env, 'REGISTRATION_ENUMERATION_SAFE', false),
    mailRetryDelays: durationList(env, 'MAIL_RETRY_DELAYS', '2s,10s,60s'),
    auditRetention: durationOrOff(env, 'AUDIT_RETENTION', 60, '365d'),
    webhookDeliveryRetention: durationOrOff(env, 'WEBHOOK_DELIVERY_RETENTION', 60, '30d'),
    ...(auditSigningKey !== undefined && { auditSigningKey }),
    // About a day in all (23h42m), then dead.
    webhookRetryDelays: durationList(env, 'WEBHOOK_RETRY_DELAYS', '30s,2m,10m,30m,1h,2h,4h,8h,8h'),
    webhookTimeout: duration(env, 'WEBHOOK_TIMEOUT', '10s', 1) * 1000,
    webhookConcurrency: integer(env, 'WEBHOOK_CONCURRENCY', 8, 1, 256),
    webhookAllowPrivate: boolean(env, 'WEBHOOK_ALLOW_PRIVATE', false),
    trustProxy: trustProxy(env),
    social: readSocialConfig({
      read: name => read(env, name),
      url: (name, fallback) => url(env, name, fallback),
      fail: (name, message) => { throw new ConfigError(name, message) }
    }),
    ...(redis !== undefined && { redisUrl: redis }),
    redisKeyPrefix: read(env, 'REDIS_KEY_PREFIX') ?? 'portcullis:',
    rateLimits: {
      loginFailuresPerAccount: rateLimit(env, 'RATE_LIMIT_LOGIN_ACCOUNT', '5/5m'),
      loginFailuresPerIp: rateLimit(env, 'RATE_LIMIT_LOGIN_IP', '30/1m'),
      mfaFailuresPerAccount: rateLimit(env, 'RATE_LIMIT_MFA_ACCOUNT', '5/5m'),
      registerPerIp: rateLimit(env, 'RATE_LIMIT_REGISTER_IP', '20/1m'),
      emailPerIp: rateLimit(env, 'RATE_LIMIT_EMAIL_IP', '20/1m'),
      emailPerAddress: rateLimit(env, 'RATE_LIMIT_EMAIL_ADDRESS', '5/1m'),
      tokenPerIp: rateLimit(env, 'RATE_LIMIT_TOKEN_IP', '30/1m'),
      refreshPerIp: rateLimit(env, 'RATE_LIMIT_REFRESH_IP', '300/1m'),
      // Generous: a resource server may introspect on every request it serves.
      oauthPerIp: rateLimit(env, 'RATE_LIMIT_OAUTH_IP', '600/1m'),
      loginPerIp: rateLimit(env, 'RATE_LIMIT_LOGIN_REQUESTS_IP', '60/1m'),
      // Generous too: a resource server may check a token on every request it serves.
      verifyPerIp: rateLimit(env, 'RATE_LIMIT_VERIFY_IP', '600/1m')
    },
    rateLimitIpv6Prefix: integer(env, 'RATE_LIMIT_IPV6_PREFIX', 64, 1, 128)
  }
  if (config.jwksMaxAge > 86400) throw new ConfigError('JWKS_MAX_AGE', 'must be at most 1d: a rotated key waits this long before it signs')
  // The reload interval must stay within the margin that keeps retired keys published (60 s).
  if (config.jwtKeyReloadInterval > 60) throw new ConfigError('JWT_KEY_RELOAD_INTERVAL', 'must be at most 60s')
  if (config.refreshReuseGrace >= config.refreshTokenTtl) {
    throw new ConfigError('REFRESH_REUSE_GRACE', 'must be shorter than REFRESH_TOKEN_TTL')
  }
  // A last guard: the parsers above should make this impossible to fail.
  const problem = Value.Errors(Config, config).First()
  if (problem) throw new ConfigError(problem.path, problem.message)
  return config
}
