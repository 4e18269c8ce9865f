// Signing private keys at rest: sealed with AES-256-GCM under a key derived (HKDF-SHA256) from
// KEY_ENCRYPTION_KEY, so that a copy of the database (a backup, a file readable by another user)
// does not hand out the keys that sign every token.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { ConfigError } from '../config.js'

/** Versioned: another scheme later gets another prefix, and rows of both can be read. */
const SEALED_V1 = 'enc:v1:'
const PLAIN_PEM = '-----BEGIN '
// HKDF, not a password hash: KEY_ENCRYPTION_KEY must be a random secret of at least 32 bytes
// (the configuration refuses shorter ones), so there is nothing for a slow KDF to stretch.
const HKDF_INFO = 'portcullis signing-key encryption v1'
const IV_BYTES = 12
const TAG_BYTES = 16

export interface KeyCipher {
  /** Whether KEY_ENCRYPTION_KEY is set: new keys are stored sealed. */
  readonly encrypts: boolean
  /** The private key as it is stored: sealed when a KEY_ENCRYPTION_KEY is set, else the PEM itself. */
  seal (kid: string, pem: string): string
  /** The PEM of a stored private key, sealed or (from before KEY_ENCRYPTION_KEY) plain. ConfigError when it cannot be. */
  open (kid: string, stored: string): string
}

export function isSealed (stored: string): boolean {
  return stored.startsWith('enc:')
}

// The kid is authenticated with the ciphertext: a sealed key copied onto another row does not open.
const aad = (kid: string) => Buffer.from(`portcullis signing key ${kid}`, 'utf8')

const derived = new Map<string, Buffer>()
/**
 * A 256-bit key derived from `secret` for one purpose (`info`): each purpose gets its own key, so
 * that the signing keys and other secrets sealed under KEY_ENCRYPTION_KEY never share one.
 */
export function deriveKey (secret: string, info: string): Buffer {
  const id = `${info}\u0000${secret}`
  let key = derived.get(id)
  if (key === undefined) {
    key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), info, 32))
    derived.set(id, key)
  }
  return key
}

/** `enc:v1:<iv>.<ciphertext>.<tag>`: `text` sealed with AES-256-GCM under `key`, bound to `aad`. */
export function sealText (key: Buffer, aad: Buffer, text: string): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(aad)
  const sealed = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()])
  return `${SEALED_V1}${iv.toString('base64url')}.${sealed.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`
}

/** The text sealText sealed; undefined when it is not of that format, or `key` and `aad` do not open it. */
export function openText (key: Buffer, aad: Buffer, stored: string): string | undefined {
  if (!stored.startsWith(SEALED_V1)) return undefined
  const [iv, sealed, tag] = stored.slice(SEALED_V1.length).split('.').map(part => Buffer.from(part ?? '', 'base64url'))
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
    decipher.setAAD(aad)
    decipher.setAuthTag(tag)
    return Buffer.concat([decipher.update(sealed), decipher.final()]).toString('utf8')
  } catch {
    return undefined
  }
}

/** The cipher of KEY_ENCRYPTION_KEY (undefined: keys are stored as plain PEM, and sealed ones cannot be read). */
export function keyCipher (secret: string | undefined): KeyCipher {
  const key = secret === undefined ? undefined : deriveKey(secret, HKDF_INFO)
  return {
    encrypts: key !== undefined,
    seal (kid, pem) {
      if (key === undefined) return pem
      return sealText(key, aad(kid), pem)
    },
    open (kid, stored) {
      if (stored.startsWith(PLAIN_PEM)) return stored
      if (!stored.startsWith(SEALED_V1)) {
        throw new ConfigError('KEY_ENCRYPTION_KEY', `cannot read stored signing key ${kid}: it is stored in a format this version does not know (${stored.slice(0, stored.indexOf(':', 4) + 1) || 'not a PEM'})`)
      }
      if (key === undefined) {
        throw new ConfigError('KEY_ENCRYPTION_KEY', `is not set, but stored signing key ${kid} is encrypted: set it as it was when the key was stored`)
      }
      const pem = openText(key, aad(kid), stored)
      if (pem === undefined) {
        throw new ConfigError('KEY_ENCRYPTION_KEY', `does not decrypt stored signing key ${kid}: it is not the key the signing keys were encrypted with`)
      }
      return pem
    }
  }
}
