// TOTP (RFC 6238: 6 digits, 30 s, SHA-1): enrolment, confirmation, code checks and removal.
import type { TOTP } from 'otpauth'
import { auditEvent } from '../audit/events.js'
import type { AuthDeps } from '../deps.js'
import { errors } from '../errors.js'
import { deriveKey, openText, sealText } from '../keys/encryption.js'
import { newRecoveryCodes } from './recovery-codes.js'

const PERIOD = 30
const DIGITS = 6
const ALGORITHM = 'SHA1'
/** 160 bits, the size RFC 4226 recommends for an HMAC-SHA-1 secret. */
const SECRET_BYTES = 20
// The secret is sealed under its own key derived from KEY_ENCRYPTION_KEY (another HKDF context than
// the signing keys'), bound to the user's id: a sealed secret copied onto another account does not open.
const HKDF_INFO = 'portcullis totp-secret encryption v1'
const aad = (userId: string) => Buffer.from(`portcullis totp secret ${userId}`, 'utf8')

// otpauth, and qrcode with its PNG encoder (~1.2 MiB of heap together), are imported by the first
// enrolment or code check, not at start (later imports find them loaded: ~5 µs).

export interface TotpEnrolment {
  /** The shared secret, base32, for typing into an app by hand. */
  secret: string
  otpauth_url: string
  qr_svg: string
}

function secretKey (deps: Pick<AuthDeps, 'config'>): Buffer {
  const secret = deps.config.keyEncryptionKey
  // Stored in plain text, a copy of the database would be every user's second factor.
  if (secret === undefined) throw errors.mfaUnavailable()
  return deriveKey(secret, HKDF_INFO)
}

function openSecret (deps: Pick<AuthDeps, 'config'>, userId: string, stored: string): string {
  const secret = openText(secretKey(deps), aad(userId), stored)
  // An operator's mistake, not the user's: a 503 that names it (logged), never a wrong code that counts.
  if (secret === undefined) throw errors.mfaUnavailable('The server cannot check authenticator codes now: its KEY_ENCRYPTION_KEY is not the key the secrets were stored with.')
  return secret
}

async function totpOf (secretBase32: string, label = 'account'): Promise<TOTP> {
  const { Secret, TOTP } = await import('otpauth')
  return new TOTP({ issuer: 'Portcullis', label, algorithm: ALGORITHM, digits: DIGITS, period: PERIOD, secret: Secret.fromBase32(secretBase32) })
}

/** The time step a code belongs to, if it is the code of the current step or of the one before or after; else null. */
export async function matchingStep (secretBase32: string, code: string, now: Date): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null
  const delta = (await totpOf(secretBase32)).validate({ token: code, timestamp: now.getTime(), window: 1 })
  return delta === null ? null : Math.floor(now.getTime() / 1000 / PERIOD) + delta
}

/** Starts (or restarts) a TOTP enrolment: a new secret, pending until confirmTotp. 409 when one is confirmed. */
export async function enrolTotp (deps: AuthDeps, user: { id: string, email: string }): Promise<TotpEnrolment> {
  const key = secretKey(deps)
  const { Secret } = await import('otpauth')
  const secret = new Secret({ size: SECRET_BYTES }).base32
  const saved = await deps.repositories.mfa.savePendingTotp(user.id, sealText(key, aad(user.id), secret), deps.now())
  if (!saved) throw errors.alreadyEnrolled()
  const otpauthUrl = (await totpOf(secret, user.email)).toString()
  const { default: QRCode } = await import('qrcode')
  return { secret, otpauth_url: otpauthUrl, qr_svg: await QRCode.toString(otpauthUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }) }
}

/**
 * Confirms a pending enrolment with a first code: the factor is on from now, and the user gets its
 * recovery codes (the only time these are shown, with a regeneration). This is the one place a TOTP
 * factor is enabled.
 */
export async function confirmTotp (deps: AuthDeps, userId: string, code: string): Promise<string[]> {
  const now = deps.now()
  const found = await deps.repositories.mfa.findTotp(userId)
  if (found !== undefined && found.confirmedAt !== null) throw errors.alreadyEnrolled()
  const step = found === undefined ? null : await matchingStep(openSecret(deps, userId, found.secret), code, now)
  if (step === null) throw errors.invalidMfaCode(400)
  const recovery = newRecoveryCodes()
  if (!await deps.repositories.mfa.confirmTotp(userId, step, recovery.hashes, now, [auditEvent(deps, 'mfa.enabled', userId, { method: 'totp' })])) throw errors.invalidMfaCode(400)
  return recovery.codes
}

/** Whether `code` is a valid code of the user's confirmed factor, never used before (the step it matched is then spent). */
export async function checkTotp (deps: AuthDeps, userId: string, code: string): Promise<boolean> {
  const found = await deps.repositories.mfa.findTotp(userId)
  if (found === undefined || found.confirmedAt === null) return false
  const step = await matchingStep(openSecret(deps, userId, found.secret), code, deps.now())
  // A step at or before the last accepted one is a replay (or an older code than the one used): refused.
  return step !== null && await deps.repositories.mfa.useTotpStep(userId, step)
}

/** Removes the user's TOTP factor (with its recovery codes): the one place a TOTP factor is disabled. */
export async function removeTotp (deps: AuthDeps, userId: string): Promise<boolean> {
  return deps.repositories.mfa.deleteTotp(userId, [auditEvent(deps, 'mfa.disabled', userId, { method: 'totp' })])
}
