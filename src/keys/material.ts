// Signing key material: generate, import (PEM or JWK), identify (RFC 7638 thumbprint), publish (JWKS).
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import { calculateJwkThumbprint, type JWK } from 'jose'
import type { SigningAlgorithm } from '../config.js'
import type { SigningKeyRecord } from '../../db/repositories.js'
import type { KeyCipher } from './encryption.js'

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

const KEY_NEEDS = 'RS256 needs RSA of 2048 bits or more, ES256 a P-256 key, EdDSA an Ed25519 key'

function fits (key: KeyObject, algorithm: AsymmetricAlgorithm): boolean {
  const type = key.asymmetricKeyType
  return (algorithm === 'RS256' && type === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) ||
    (algorithm === 'ES256' && type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') ||
    (algorithm === 'EdDSA' && type === 'ed25519')
}

function assertKeyFits (key: KeyObject, algorithm: AsymmetricAlgorithm): void {
  if (!fits(key, algorithm)) throw new Error(`the configured private key (${key.asymmetricKeyType}) does not fit JWT_ALGORITHM=${algorithm} (${KEY_NEEDS})`)
}

/** Parses a PEM or JWK (JSON) private key. */
export function parsePrivateKey (text: string): KeyObject {
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) {
    return createPrivateKey({ key: JSON.parse(trimmed), format: 'jwk' })
  }
  return createPrivateKey(trimmed)
}

/**
 * Why a configured private key cannot sign with `algorithm`, said after the variable's name; or
 * undefined when it can. Never quotes the key (a parser's message may).
 */
export function privateKeyProblem (text: string, algorithm: AsymmetricAlgorithm): string | undefined {
  let key: KeyObject
  try {
    key = parsePrivateKey(text)
  } catch {
    return 'is not a private key: give a PEM (PKCS#8 "BEGIN PRIVATE KEY", PKCS#1 "BEGIN RSA PRIVATE KEY" or SEC1 "BEGIN EC PRIVATE KEY"; \\n escapes allowed) or a private JWK as JSON'
  }
  if (!fits(key, algorithm)) return `holds an ${key.asymmetricKeyType ?? 'unknown'} key, which does not fit JWT_ALGORITHM=${algorithm} (${KEY_NEEDS})`
  return undefined
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

/** The key material of a stored record (its PEM is PKCS#8, as `describeKey` exports it; sealed or not). */
export function fromRecord (record: SigningKeyRecord, cipher: KeyCipher): Promise<SigningKey> {
  return describeKey(createPrivateKey(cipher.open(record.kid, record.privateKey)), record.algorithm as AsymmetricAlgorithm)
}

/** A new key as the repository stores it: its private key sealed when KEY_ENCRYPTION_KEY is set. */
export function toRecord (key: SigningKey, createdAt: Date, cipher: KeyCipher): SigningKeyRecord {
  return {
    kid: key.kid,
    algorithm: key.algorithm,
    privateKey: cipher.seal(key.kid, key.privatePem),
    publicJwk: JSON.stringify(key.publicJwk),
    createdAt,
    retiredAt: null
  }
}
