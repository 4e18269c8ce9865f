// Rotating the stored signing keys (on demand, automatically, on first start) and describing the ring.
import type { AuthDeps } from '../deps.js'
import type { Config } from '../config.js'
import { errors } from '../errors.js'
import { isLive, RETENTION_MARGIN_SECONDS, timeline, type KeyStatus, type KeyTimes } from './schedule.js'
import { generateSigningKey, toRecord, type AsymmetricAlgorithm } from './material.js'
import { isSealed, keyCipher } from './encryption.js'
import { auditEvent } from '../audit/events.js'

export type KeyDeps = Pick<AuthDeps, 'config' | 'repositories' | 'now'>

/** How long a retired key stays published, and how early a new key is published before it signs. */
export function keyTimes (config: Config): KeyTimes & { activationDelayMs: number } {
  return {
    retentionMs: (config.accessTokenTtl + RETENTION_MARGIN_SECONDS) * 1000,
    // A verifier that fetched the key set just before a process learned of the new key caches it
    // for JWKS_MAX_AGE: the new key signs only once every such copy has expired.
    activationDelayMs: (config.jwksMaxAge + config.jwtKeyReloadInterval) * 1000
  }
}

/** Where the signing key comes from: the database (rotatable) or the configuration (not). */
export function keySource (config: Config): 'database' | 'configuration' {
  return config.jwtAlgorithm === 'HS256' || config.jwtPrivateKey !== undefined ? 'configuration' : 'database'
}

function assertRotatable (config: Config): asserts config is Config & { jwtAlgorithm: AsymmetricAlgorithm } {
  if (config.jwtAlgorithm === 'HS256') {
    throw errors.keyConfigured('JWT_ALGORITHM is HS256: tokens are signed with the shared JWT_SECRET, which only a change of configuration can rotate.')
  }
  if (config.jwtPrivateKey !== undefined) {
    throw errors.keyConfigured('The signing key comes from JWT_PRIVATE_KEY (or JWT_PRIVATE_KEY_FILE): rotate it in the configuration (see README, "Rotating a configured key").')
  }
}

export interface RotationResult {
  kid: string
  /** When the new key starts signing: now, or once verifiers have had time to fetch it. */
  signsFrom: Date
  /** The keys that stop signing then. */
  retired: string[]
}

async function rotate (deps: KeyDeps, algorithm: AsymmetricAlgorithm, now: Date, options: { immediate?: boolean, unless?: { algorithm: string, liveSince: Date } }): Promise<RotationResult | undefined> {
  // Generated before the transaction: no awaits (and no CPU-heavy work) while it holds the lock.
  const key = await generateSigningKey(algorithm)
  const signsFrom = new Date(now.getTime() + (options.immediate === true ? 0 : keyTimes(deps.config).activationDelayMs))
  // Only keys of the new key's algorithm retire: a key of another algorithm published ahead of a
  // change of JWT_ALGORITHM (keys rotate --algorithm --force) stays until a server signs with it.
  const record = toRecord(key, now, keyCipher(deps.config.keyEncryptionKey))
  const outcome = await deps.repositories.signingKeys.rotate({
    key: record,
    now,
    retireAt: signsFrom,
    unless: options.unless,
    onlyAlgorithm: algorithm,
    events: [auditEvent({ now: () => now }, 'key.rotated', null, { kid: key.kid, algorithm, signs_from: signsFrom.toISOString() })]
  })
  return outcome.rotated ? { kid: key.kid, signsFrom, retired: outcome.retired } : undefined
}

/**
 * Publishes a new key of the configured algorithm; it signs after the activation delay (at once
 * when `immediate`, for a key that must stop signing now), and the live keys retire then.
 * 409 key_configured when the key comes from the configuration.
 */
export async function rotateSigningKey (deps: KeyDeps, options: { immediate?: boolean, algorithm?: AsymmetricAlgorithm } = {}): Promise<RotationResult> {
  assertRotatable(deps.config)
  return (await rotate(deps, options.algorithm ?? deps.config.jwtAlgorithm, deps.now(), options)) as RotationResult
}

/**
 * Rotates when no live key of the configured algorithm is younger than `maxAgeSeconds` (0: when
 * there is no live key at all, as on first start or after JWT_ALGORITHM changed). The repository
 * re-checks the ages inside its transaction, so of two processes doing this at once one rotates.
 * Returns the new key, or undefined when none was needed.
 */
export async function rotateIfDue (deps: KeyDeps, maxAgeSeconds: number, options: { immediate?: boolean } = {}): Promise<RotationResult | undefined> {
  const { config } = deps
  assertRotatable(config)
  const now = deps.now()
  const liveSince = new Date(maxAgeSeconds === 0 ? 0 : now.getTime() - maxAgeSeconds * 1000)
  const stored = await deps.repositories.signingKeys.list()
  // A cheap look first: most calls find a fresh key and generate nothing.
  if (stored.some(k => k.algorithm === config.jwtAlgorithm && k.createdAt > liveSince && isLive(k, now.getTime()))) return undefined
  return rotate(deps, config.jwtAlgorithm, now, { ...options, unless: { algorithm: config.jwtAlgorithm, liveSince } })
}

/** Live stored keys of another algorithm than the one this server signs with retire now, and stay published for their tokens. */
export async function retireOtherAlgorithms (deps: KeyDeps, algorithm: string): Promise<string[]> {
  const now = deps.now()
  const stored = await deps.repositories.signingKeys.list()
  if (!stored.some(key => key.algorithm !== algorithm && isLive(key, now.getTime()))) return []
  return (await deps.repositories.signingKeys.rotate({ now, retireAt: now, exceptAlgorithm: algorithm })).retired
}

/**
 * Checks that every stored private key can be read with this KEY_ENCRYPTION_KEY (ConfigError naming
 * it when one cannot) and, with one set, encrypts the keys stored before it was (compare-and-set:
 * a row another process changed meanwhile is left to it). Returns how many were encrypted, and how
 * many stay plain.
 */
export async function sealStoredKeys (deps: KeyDeps): Promise<{ sealed: number, plain: number }> {
  const cipher = keyCipher(deps.config.keyEncryptionKey)
  let sealed = 0
  let plain = 0
  for (const record of await deps.repositories.signingKeys.list()) {
    const pem = cipher.open(record.kid, record.privateKey)
    if (isSealed(record.privateKey)) continue
    if (cipher.encrypts && await deps.repositories.signingKeys.replacePrivateKey(record.kid, record.privateKey, cipher.seal(record.kid, pem))) sealed++
    else plain++
  }
  return { sealed, plain }
}

/** With a configured key, the stored keys no longer sign: they retire now and stay published for their tokens. */
export async function retireStoredKeys (deps: KeyDeps): Promise<string[]> {
  const now = deps.now()
  return (await deps.repositories.signingKeys.rotate({ now, retireAt: now })).retired
}

export interface KeyDescription {
  kid: string
  algorithm: string
  status: KeyStatus
  source: 'database' | 'configuration'
  createdAt: Date | null
  signsFrom: Date | null
  retiredAt: Date | null
  publishedUntil: Date | null
}

/** The stored keys with their status now; a configured key first, as the active one. */
export async function describeKeys (deps: KeyDeps, configuredKid?: string): Promise<KeyDescription[]> {
  const { config } = deps
  // The HS256 secret is no key to show, and no stored key is accepted beside it.
  if (config.jwtAlgorithm === 'HS256') return []
  const now = deps.now().getTime()
  const stored = await deps.repositories.signingKeys.list()
  // With a configured key, no stored key signs: pass an algorithm no stored key has.
  const signing = configuredKid === undefined && keySource(config) === 'database' ? config.jwtAlgorithm : ''
  const described: KeyDescription[] = timeline(stored, signing, now, keyTimes(config)).map(entry => ({
    kid: entry.key.kid,
    algorithm: entry.key.algorithm,
    status: entry.status,
    source: 'database',
    createdAt: entry.key.createdAt,
    signsFrom: entry.signsFrom,
    retiredAt: entry.key.retiredAt,
    publishedUntil: entry.publishedUntil
  }))
  if (configuredKid === undefined) return described.reverse()
  const configured: KeyDescription = {
    kid: configuredKid,
    algorithm: config.jwtAlgorithm,
    status: 'active',
    source: 'configuration',
    createdAt: null,
    signsFrom: null,
    retiredAt: null,
    publishedUntil: null
  }
  return [configured, ...described.filter(k => k.kid !== configuredKid).reverse()]
}

const iso = (date: Date | null) => date === null ? null : date.toISOString()

/** A key as the admin API and `keys list --json` show it. */
export function keyView (key: KeyDescription) {
  return {
    kid: key.kid,
    algorithm: key.algorithm,
    status: key.status,
    published: key.status !== 'expired',
    source: key.source,
    created_at: iso(key.createdAt),
    signs_from: iso(key.signsFrom),
    retired_at: iso(key.retiredAt),
    published_until: iso(key.publishedUntil)
  }
}
