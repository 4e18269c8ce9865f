// The key settings a server runs with (algorithm, where the key comes from, rotation schedule),
// stored in the database at each start so that the CLI rotates by the server's settings rather
// than by whatever its own environment says.
import type { Config, SigningAlgorithm } from '../config.js'
import type { KeyDeps } from './rotation.js'

export interface KeySettings {
  algorithm: SigningAlgorithm
  source: 'database' | 'configuration'
  /** The kid of JWT_PRIVATE_KEY(_FILE), when the key comes from the configuration. */
  configuredKid: string | null
  /** Whether the server has a KEY_ENCRYPTION_KEY (stores the private keys sealed). */
  encrypted: boolean
  /** Seconds: JWT_KEY_ROTATION_INTERVAL (0: on demand only), JWKS_MAX_AGE, JWT_KEY_RELOAD_INTERVAL, ACCESS_TOKEN_TTL. */
  rotationInterval: number
  jwksMaxAge: number
  reloadInterval: number
  accessTokenTtl: number
}

const ALGORITHMS = new Set(['RS256', 'ES256', 'EdDSA', 'HS256'])

export function keySettingsOf (config: Config, configuredKid: string | undefined): KeySettings {
  return {
    algorithm: config.jwtAlgorithm,
    source: config.jwtAlgorithm === 'HS256' || config.jwtPrivateKey !== undefined ? 'configuration' : 'database',
    configuredKid: configuredKid ?? null,
    encrypted: config.keyEncryptionKey !== undefined,
    rotationInterval: config.jwtKeyRotationInterval,
    jwksMaxAge: config.jwksMaxAge,
    reloadInterval: config.jwtKeyReloadInterval,
    accessTokenTtl: config.accessTokenTtl
  }
}

/** Records this server's settings (every start: the last server to start is the one described). */
export async function saveKeySettings (deps: KeyDeps, configuredKid: string | undefined): Promise<void> {
  await deps.repositories.signingKeys.saveSettings(JSON.stringify(keySettingsOf(deps.config, configuredKid)), deps.now())
}

/** The settings the server stored; undefined when none has started since they were first recorded, or they do not parse. */
export async function storedKeySettings (deps: KeyDeps): Promise<KeySettings | undefined> {
  const stored = await deps.repositories.signingKeys.settings()
  if (stored === undefined) return undefined
  try {
    const settings = JSON.parse(stored) as KeySettings
    const numbers = [settings.rotationInterval, settings.jwksMaxAge, settings.reloadInterval, settings.accessTokenTtl]
    return ALGORITHMS.has(settings.algorithm) && numbers.every(n => Number.isInteger(n) && n >= 0) ? settings : undefined
  } catch {
    return undefined
  }
}

/** `config` with the server's key settings in place of this process's own (the key material stays this process's). */
export function withKeySettings (config: Config, settings: KeySettings): Config {
  const { jwtPrivateKey, ...rest } = config
  return {
    ...rest,
    // Where the server's key comes from is the server's: a key in this environment does not make it configured.
    ...(settings.source === 'configuration' && jwtPrivateKey !== undefined && { jwtPrivateKey }),
    jwtAlgorithm: settings.algorithm,
    jwtKeyRotationInterval: settings.rotationInterval,
    jwksMaxAge: settings.jwksMaxAge,
    jwtKeyReloadInterval: settings.reloadInterval,
    accessTokenTtl: settings.accessTokenTtl
  }
}
