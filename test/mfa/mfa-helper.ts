// Second-factor helpers for the tests: TOTP codes computed from the secret at a given time, claims of a token.
import type { FastifyInstance } from 'fastify'
import { Secret, TOTP } from 'otpauth'
import { bearer } from '../helper.js'
import type { SoftwareAuthenticator } from './software-authenticator.js'

/** A random KEY_ENCRYPTION_KEY: TOTP secrets are stored sealed under a key derived from it. */
export const MFA_ENV = { KEY_ENCRYPTION_KEY: 'k'.repeat(16) + 'mfa-tests-encryption-key' }

/** The 6-digit code of `secret` at `at`. */
export function totpCode (secret: string, at: Date): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: at.getTime() })
}

export function claimsOf (jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'))
}

/** Sets up and confirms TOTP for the user of `access`: its secret and recovery codes. */
export async function enrolTotp (app: FastifyInstance, access: string, now: () => Date): Promise<{ secret: string, recoveryCodes: string[] }> {
  const enrolled = await app.inject({ method: 'POST', url: '/api/auth/mfa/totp', headers: bearer(access) })
  if (enrolled.statusCode !== 201) throw new Error(`enrol failed: ${enrolled.statusCode} ${enrolled.body}`)
  const { secret } = enrolled.json()
  const confirmed = await app.inject({ method: 'POST', url: '/api/auth/mfa/totp/confirm', headers: bearer(access), payload: { code: totpCode(secret, now()) } })
  if (confirmed.statusCode !== 200) throw new Error(`confirm failed: ${confirmed.statusCode} ${confirmed.body}`)
  return { secret, recoveryCodes: confirmed.json().recovery_codes }
}

/** The origin of the test app (PUBLIC_URL of TEST_ENV): WEBAUTHN_ORIGINS and WEBAUTHN_RP_ID follow it. */
export const ORIGIN = 'http://portcullis.test'

/** Registers a passkey of `authenticator` (a new ES256 or EdDSA credential) for the user of `access`. */
export async function registerPasskey (app: FastifyInstance, access: string, authenticator: SoftwareAuthenticator, alg: -7 | -8 = -7, name?: string): Promise<{ id: string, name: string, created_at: string, last_used_at: string | null }> {
  const options = await app.inject({ method: 'POST', url: '/api/auth/passkeys/options', headers: bearer(access) })
  if (options.statusCode !== 200) throw new Error(`options failed: ${options.statusCode} ${options.body}`)
  const credential = authenticator.create(options.json(), alg)
  const registered = await app.inject({ method: 'POST', url: '/api/auth/passkeys', headers: bearer(access), payload: { credential, ...(name !== undefined && { name }) } })
  if (registered.statusCode !== 201) throw new Error(`register failed: ${registered.statusCode} ${registered.body}`)
  return registered.json()
}

/** Request options of a passwordless login. */
export async function passkeyLoginOptions (app: FastifyInstance, body: { email?: string } = {}) {
  const res = await app.inject({ method: 'POST', url: '/api/auth/passkeys/login/options', payload: body })
  if (res.statusCode !== 200) throw new Error(`login options failed: ${res.statusCode} ${res.body}`)
  return res.json()
}
