// Signing key material: generate, import (PEM or JWK), identify (RFC 7638 thumbprint), publish (JWKS).
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import { calculateJwkThumbprint, type JWK } from 'jose'
import type { SigningAlgorithm } from './config.js'
import type { SigningKeyRecord, SigningKeyRepository } from '../db/repositories.js'

const generateKeyPairAsync = promisify(generateKeyPair)

export type AsymmetricAlgorithm = Exclude<SigningAlgorithm, 'HS256'>

export interface SigningKey {
  kid: string
  algorithm: AsymmetricAlgorithm
  privatePem: string
  publicPem: string
  /** Public members only, with kid, alg and use. */
  publicJwk: JWK
}

async function generatePrivateKey (algorithm: AsymmetricAlgorithm): Promise<KeyObject> {
  switch (algorithm) {
    case 'RS256': return (await generateKeyPairAsync('rsa', { modulusLength: 2048 })).privateKey
    case 'ES256': return (await generateKeyPairAsync('ec', { namedCurve: 'P-256' })).privateKey
    case 'EdDSA': return (await generateKeyPairAsync('ed25519')).privateKey
  }
}

function assertKeyFits (key: KeyObject, algorithm: AsymmetricAlgorithm): void {
  const type = key.asymmetricKeyType
  const fits = (algorithm === 'RS256' && type === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) ||
    (algorithm === 'ES256' && type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') ||
    (algorithm === 'EdDSA' && type === 'ed25519')
  if (!fits) throw new Error(`the configured private key (${type}) does not fit JWT_ALGORITHM=${algorithm} (RS256 needs RSA of 2048 bits or more, ES256 a P-256 key, EdDSA an Ed25519 key)`)
}

/** Parses a PEM or JWK (JSON) private key. */
export function parsePrivateKey (text: string): KeyObject {
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) {
    return createPrivateKey({ key: JSON.parse(trimmed), format: 'jwk' })
  }
  return createPrivateKey(trimmed)
}

export async function describeKey (privateKey: KeyObject, algorithm: AsymmetricAlgorithm): Promise<SigningKey> {
  assertKeyFits(privateKey, algorithm)
  const publicKey = createPublicKey(privateKey)
  const jwk = publicKey.export({ format: 'jwk' }) as JWK
  const kid = await calculateJwkThumbprint(jwk, 'sha256')
  return {
    kid,
    algorithm,
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicJwk: { ...jwk, kid, alg: algorithm, use: 'sig' }
  }
}

export async function generateSigningKey (algorithm: AsymmetricAlgorithm): Promise<SigningKey> {
  return describeKey(await generatePrivateKey(algorithm), algorithm)
}

function fromRecord (record: SigningKeyRecord): Promise<SigningKey> {
  return describeKey(createPrivateKey(record.privateKey), record.algorithm as AsymmetricAlgorithm)
}

export interface KeySet {
  /** The key new tokens are signed with. */
  active: SigningKey
  /** Every key whose tokens may still be live: the active one first. */
  published: SigningKey[]
}

/**
 * The configured key when there is one; otherwise the newest stored key of the configured algorithm,
 * generated and stored on first start so that restarts keep issued tokens valid.
 */
export async function loadKeySet (options: {
  algorithm: AsymmetricAlgorithm
  configuredKey?: string
  repository: SigningKeyRepository
  now: Date
  /** Keys retired within this many ms are still published. */
  retentionMs: number
}): Promise<KeySet> {
  const stored = await options.repository.list()
  const publishedStored = await Promise.all(stored
    .filter(r => r.retiredAt === null || options.now.getTime() - r.retiredAt.getTime() < options.retentionMs)
    .map(fromRecord))

  let active: SigningKey
  if (options.configuredKey !== undefined) {
    active = await describeKey(parsePrivateKey(options.configuredKey), options.algorithm)
  } else {
    const newest = [...stored].reverse().find(r => r.retiredAt === null && r.algorithm === options.algorithm)
    if (newest) {
      active = await fromRecord(newest)
    } else {
      active = await generateSigningKey(options.algorithm)
      await options.repository.insert({
        kid: active.kid,
        algorithm: active.algorithm,
        privateKey: active.privatePem,
        publicJwk: JSON.stringify(active.publicJwk),
        createdAt: options.now,
        retiredAt: null
      })
    }
  }
  const others = publishedStored.filter(k => k.kid !== active.kid)
  return { active, published: [active, ...others] }
}
