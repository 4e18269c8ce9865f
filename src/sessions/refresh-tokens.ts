// Sealing a refresh token's successor so that a replay within the grace window can be answered
// without the database ever holding a usable token.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

function sealingKey (parentToken: string): Buffer {
  return Buffer.from(hkdfSync('sha256', parentToken, '', 'portcullis refresh successor v1', 32))
}

/** AES-256-GCM under a key only the holder of `parentToken` can derive. */
export function sealSuccessor (parentToken: string, successor: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', sealingKey(parentToken), iv)
  const sealed = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()])
  return [iv, cipher.getAuthTag(), sealed].map(b => b.toString('base64url')).join('.')
}

export function openSuccessor (parentToken: string, sealed: string): string | undefined {
  const [iv, tag, body] = sealed.split('.').map(part => Buffer.from(part, 'base64url'))
  if (!iv || !tag || !body) return undefined
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealingKey(parentToken), iv)
    decipher.setAuthTag(tag)
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')
  } catch {
    return undefined
  }
}
