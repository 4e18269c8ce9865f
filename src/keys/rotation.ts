// Rotating the stored signing keys (on demand, automatically, on first start) and describing the ring.
import type { AuthDeps } from '../deps.js'
import type { Config } from '../config.js'
import { errors } from '../errors.js'
import { isLive, RETENTION_MARGIN_SECONDS, timeline, type KeyStatus, type KeyTimes } from './schedule.js'
import { generateSigningKey, toRecord, type AsymmetricAlgorithm } from './material.js'

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
  const outcome = await deps.repositories.signingKeys.rotate({ key: toRecord(key, now), now, retireAt: signsFrom, unless: options.unless })
  return outcome.rotated ? { kid: key.kid, signsFrom, retired: outcome.retired } : undefined
}

/**
 * Publishes a new key of the configured algorithm; it signs after the activation delay (at once
 * when `immediate`, for a key that must stop signing now), and the live keys retire then.
 * 409 key_configured when the key comes from the configuration.
 */
export async function rotateSigningKey (deps: KeyDeps, options: { immediate?: boolean } = {}): Promise<RotationResult> {
  assertRotatable(deps.config)
  return (await rotate(deps, deps.config.jwtAlgorithm, deps.now(), options)) as RotationResult
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
  const signing = keySource(config) === 'database' ? config.jwtAlgorithm : ''
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
