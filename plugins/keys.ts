// Loads the key ring (stored keys, generated on first start; or the configured key; or the HS256
// secret) and decorates signing and verification with it: RFC 9068 access tokens, algorithm pinned
// per key, claims required. fast-jwt directly rather than @fastify/jwt, whose key and kid are fixed
// at registration: here the signer changes on rotation, and the verifier is picked by kid.
import fp from 'fastify-plugin'
import type { JWK } from 'jose'
import { isUserTokenPayload, type AccessTokenClaims } from '../src/sessions/access-tokens.js'
import { KeyRing, type RingKey } from '../src/keys/ring.js'
import { configuredRingKey, secretRingKey, storedKeyLoader } from '../src/keys/ring-sources.js'
import { keySource, keyTimes, retireOtherAlgorithms, retireStoredKeys, rotateIfDue, sealStoredKeys } from '../src/keys/rotation.js'
import { describeKey, parsePrivateKey } from '../src/keys/material.js'
import { keyCipher } from '../src/keys/encryption.js'
import { saveKeySettings } from '../src/keys/settings.js'

export interface VerifiedAccessToken extends AccessTokenClaims {
  iss: string
  aud: string
  iat: number
  exp: number
}

declare module 'fastify' {
  interface FastifyInstance {
    keyRing: KeyRing
    /** The kid of JWT_PRIVATE_KEY(_FILE), when the key comes from the configuration. */
    configuredKid: string | undefined
    /** The public keys in the JWKS now (empty with HS256: a shared secret is never published). */
    readonly publicJwks: JWK[]
    signAccessToken (claims: AccessTokenClaims): Promise<string>
    /** Verifies any token the ring signed (user or client) against the key its kid names; throws when it is not valid. */
    verifySignedToken (token: string): Promise<Record<string, unknown>>
    /** Verifies a user's access token (a client's is refused); throws when it is not valid. */
    verifyAccessToken (token: string): Promise<VerifiedAccessToken>
  }
}

export interface KeysPluginOptions {
  /** The injected clock of the tests: when keys start signing and leave the JWKS. */
  now?: () => Date
}

export default fp(async function keys (fastify, options: KeysPluginOptions) {
  const { config } = fastify
  const now = options.now ?? (() => new Date())
  const deps = { config, repositories: fastify.repositories, now }
  const warn = (message: string) => fastify.log.warn(message)
  let configuredKid: string | undefined
  let load: () => Promise<RingKey[]>

  const cipher = keyCipher(config.keyEncryptionKey)

  if (config.jwtAlgorithm === 'HS256') {
    const secret = secretRingKey(config.jwtSecret as string)
    load = async () => [secret]
  } else {
    // Before any key is read or made: a wrong KEY_ENCRYPTION_KEY stops the start (a ConfigError,
    // exit 78) rather than signing with a new key the others cannot read; keys stored before it
    // was set are encrypted now.
    const { sealed, plain } = await sealStoredKeys(deps)
    if (sealed > 0) fastify.log.info({ sealed }, 'encrypted the stored signing keys under KEY_ENCRYPTION_KEY')
    if (!cipher.encrypts && (keySource(config) === 'database' || plain > 0)) {
      warn('KEY_ENCRYPTION_KEY is not set: the signing private keys are stored unencrypted in the database (see README, "Signing keys at rest")')
    }
    const stored = storedKeyLoader(fastify.repositories.signingKeys, cipher, warn)
    if (config.jwtPrivateKey !== undefined) {
      const configured = configuredRingKey(await describeKey(parsePrivateKey(config.jwtPrivateKey), config.jwtAlgorithm))
      configuredKid = configured.kid
      // Keys generated before a key was configured stop signing, and stay published for their tokens.
      await retireStoredKeys(deps)
      load = async () => [configured, ...(await stored()).filter(key => key.kid !== configured.kid)]
    } else {
      // First start, or JWT_ALGORITHM changed: a key of the algorithm signs at once (nobody can
      // have cached a key set that should have had it). Keys of another algorithm (the previous
      // one, or one published ahead by `keys rotate --algorithm --force`) stop signing now.
      const created = await rotateIfDue(deps, 0, { immediate: true })
      if (created !== undefined) fastify.log.info({ kid: created.kid }, `created a ${config.jwtAlgorithm} signing key (kid ${created.kid}), stored in the database: it signs from now on`)
      await retireOtherAlgorithms(deps, config.jwtAlgorithm)
      load = stored
    }
  }

  const ring = new KeyRing({ config, times: keyTimes(config), load, now, warn })
  await ring.reload()
  // For the CLI: `keys rotate` and `keys list` go by the settings of the server, not their own environment.
  await saveKeySettings(deps, configuredKid)

  fastify.decorate('keyRing', ring)
  fastify.decorate('configuredKid', configuredKid)
  fastify.decorate('publicJwks', { getter: () => ring.jwks().body.keys })
  fastify.decorate('signAccessToken', (claims: AccessTokenClaims) => ring.sign(claims))
  fastify.decorate('verifySignedToken', (token: string) => ring.verify(token))
  fastify.decorate('verifyAccessToken', async (token: string) => {
    const claims = await ring.verify(token)
    if (!isUserTokenPayload(claims)) throw new Error('not a user access token')
    return claims as unknown as VerifiedAccessToken
  })
}, { name: 'keys', dependencies: ['config', 'db'] })
