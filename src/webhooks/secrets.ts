// Webhook signing secrets at rest: sealed with AES-256-GCM under their own key derived from
// KEY_ENCRYPTION_KEY (as signing keys and TOTP seeds are), so that a copy of the database does not
// let its holder sign deliveries that receivers would trust.
import { deriveKey, openText, sealText } from '../keys/encryption.js'

const HKDF_INFO = 'portcullis webhook-secret encryption v1'

// The webhook id is authenticated with the ciphertext: a sealed secret copied onto another webhook does not open.
const aad = (webhookId: string) => Buffer.from(`portcullis webhook ${webhookId}`, 'utf8')

/** The secret as it is stored: sealed when KEY_ENCRYPTION_KEY is set, else as it is. */
export function sealWebhookSecret (keyEncryptionKey: string | undefined, webhookId: string, secret: string): string {
  if (keyEncryptionKey === undefined) return secret
  return sealText(deriveKey(keyEncryptionKey, HKDF_INFO), aad(webhookId), secret)
}

/** The secret of a stored one, sealed or plain; undefined when KEY_ENCRYPTION_KEY is missing or does not open it. */
export function openWebhookSecret (keyEncryptionKey: string | undefined, webhookId: string, stored: string): string | undefined {
  if (stored.startsWith('whsec_')) return stored
  if (keyEncryptionKey === undefined) return undefined
  return openText(deriveKey(keyEncryptionKey, HKDF_INFO), aad(webhookId), stored)
}
