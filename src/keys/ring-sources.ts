// Where the key ring's keys come from: the database, the configured private key, the HS256 secret.
import { createPublicKey } from 'node:crypto'
import type { JWK } from 'jose'
import type { SigningKeyRepository } from '../../db/repositories.js'
import type { RingKey } from './ring.js'
import type { SigningKey } from './material.js'
import type { KeyCipher } from './encryption.js'

const ASYMMETRIC = new Set(['RS256', 'ES256', 'EdDSA'])

/** A key that is always there: the configured one signs from the start and never retires. */
export function configuredRingKey (key: SigningKey): RingKey {
  return {
    kid: key.kid,
    algorithm: key.algorithm,
    signingKey: key.privatePem,
    verifyingKey: key.publicPem,
    publicJwk: key.publicJwk,
    createdAt: new Date(0),
    retiredAt: null
  }
}

/** The HS256 secret: no kid, never published. */
export function secretRingKey (secret: string): RingKey {
  return { kid: '', algorithm: 'HS256', signingKey: secret, verifyingKey: secret, createdAt: new Date(0), retiredAt: null }
}

/**
 * Reads the stored keys. Key material is derived once per kid: a reload that finds nothing new
 * costs one small query, whatever the number of keys.
 */
export function storedKeyLoader (repository: SigningKeyRepository, cipher: KeyCipher, warn: (message: string) => void): () => Promise<RingKey[]> {
  const material = new Map<string, Pick<RingKey, 'signingKey' | 'verifyingKey' | 'publicJwk'>>()
  return async () => {
    const keys: RingKey[] = []
    for (const record of await repository.list()) {
      if (!ASYMMETRIC.has(record.algorithm)) {
        warn(`ignoring stored signing key ${record.kid}: unknown algorithm ${record.algorithm}`)
        continue
      }
      let derived = material.get(record.kid)
      if (derived === undefined) {
        // A key this process cannot open (another KEY_ENCRYPTION_KEY) fails the load: the ring
        // keeps the keys it had, and the error names the variable.
        const pem = cipher.open(record.kid, record.privateKey)
        derived = {
          signingKey: pem,
          verifyingKey: createPublicKey(pem).export({ format: 'pem', type: 'spki' }).toString(),
          publicJwk: JSON.parse(record.publicJwk) as JWK
        }
        material.set(record.kid, derived)
      }
      keys.push({ ...derived, kid: record.kid, algorithm: record.algorithm as RingKey['algorithm'], createdAt: record.createdAt, retiredAt: record.retiredAt })
    }
    return keys
  }
}
