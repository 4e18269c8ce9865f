// Passkeys: registering, listing, renaming and removing them, and the passwordless login with one.
import { createHmac, randomBytes, randomUUID } from 'node:crypto'
import type { AuthenticationCredential, RegistrationCredential } from '../schemas/webauthn.js'
import type { PasskeyRecord } from '../../db/repositories.js'
import { normaliseEmail } from '../accounts/identifiers.js'
import { auditEvent } from '../audit/events.js'
import type { AuthDeps, ClientInfo } from '../deps.js'
import { errors } from '../errors.js'
import { withSecurityEvent } from '../http/security-events.js'
import { assertMayLogIn, startSession, type LoginResult } from '../sessions/sessions.js'
import { requestOptions, takeChallenge, userHandleOf, verifyAssertion, verifyRegistration, type CredentialDescriptorSource, type RequestOptionsJSON } from './webauthn.js'

export interface PasskeyView {
  id: string
  name: string
  created_at: string
  last_used_at: string | null
}

export function passkeyView (passkey: PasskeyRecord): PasskeyView {
  return { id: passkey.id, name: passkey.name, created_at: passkey.createdAt.toISOString(), last_used_at: passkey.lastUsedAt?.toISOString() ?? null }
}

export async function listPasskeys (deps: AuthDeps, userId: string): Promise<PasskeyView[]> {
  return (await deps.repositories.passkeys.listByUser(userId)).map(passkeyView)
}

/** Registers the passkey a creation response describes: from now on it is a second factor (and a first one, user-verified). */
export async function registerPasskey (deps: AuthDeps, userId: string, credential: RegistrationCredential, name: string | undefined): Promise<PasskeyView> {
  const verified = await verifyRegistration(deps, userId, credential)
  const now = deps.now()
  const passkey: PasskeyRecord = {
    id: randomUUID(),
    userId,
    ...verified,
    name: name?.trim() || 'Passkey',
    createdAt: now,
    lastUsedAt: null
  }
  const created = await deps.repositories.passkeys.create(passkey, [auditEvent(deps, 'mfa.enabled', userId, { method: 'webauthn', passkey_id: passkey.id })])
  // The options exclude the user's own credentials; one of another account is refused the same way.
  if (!created) throw errors.invalidCredential(400, 'This passkey is registered already.')
  return passkeyView(passkey)
}

export async function renamePasskey (deps: AuthDeps, userId: string, id: string, name: string): Promise<PasskeyView> {
  const renamed = await deps.repositories.passkeys.rename(userId, id, name.trim())
  if (renamed === undefined) throw errors.notFound('No such passkey.')
  return passkeyView(renamed)
}

/** Removes a passkey of the user (with the recovery codes when it was the last second factor), as TOTP removal does. */
export async function removePasskey (deps: AuthDeps, userId: string, id: string): Promise<void> {
  if (!await deps.repositories.passkeys.delete(userId, id, [auditEvent(deps, 'mfa.disabled', userId, { method: 'webauthn', passkey_id: id })])) {
    throw errors.notFound('No such passkey.')
  }
}

// A stand-in credential id for an email with no passkey (or no account): stable for the address, so
// that asking twice cannot tell it from a real one. Keyed with KEY_ENCRYPTION_KEY when set, else with
// a key of this process (then a restart, or another instance, shows another stand-in).
const processKey = randomBytes(32)
function standInCredentialId (deps: AuthDeps, email: string): string {
  return createHmac('sha256', deps.config.keyEncryptionKey ?? processKey).update(`portcullis passkey stand-in ${email}`).digest().subarray(0, 16).toString('base64url')
}

/**
 * Options for a passwordless login. Without an email: any discoverable passkey of this site (empty
 * allowCredentials). With one: the account's passkeys, or, for an unknown account or one without
 * passkeys, a stand-in of the same shape, so the answer does not tell whether the account exists.
 */
export async function passkeyLoginOptions (deps: AuthDeps, email: string | undefined): Promise<RequestOptionsJSON> {
  let allowed: CredentialDescriptorSource[] = []
  if (email !== undefined) {
    const normalised = normaliseEmail(email)
    const user = await deps.repositories.users.findByEmail(normalised)
    const passkeys = user === undefined ? [] : await deps.repositories.passkeys.listByUser(user.id)
    allowed = passkeys.length > 0 ? passkeys : [{ credentialId: standInCredentialId(deps, normalised), transports: [] }]
  }
  // Always required: here the passkey is both factors, something held and someone verified.
  return requestOptions(deps, 'passkey_login', null, allowed, 'required')
}

/**
 * A passwordless login: an assertion with user verification by a registered passkey, for a live
 * login challenge → a session at aal2 (`amr` [hwk|swk, user]). Every refusal is 401 invalid_credential
 * and uses the challenge up; the account-state rules are the password login's.
 */
export async function loginWithPasskey (deps: AuthDeps, credential: AuthenticationCredential, client: ClientInfo): Promise<LoginResult> {
  const refused = () => errors.invalidCredential(401)
  const taken = await takeChallenge(deps, 'passkey_login', credential.response.clientDataJSON)
  if (taken === undefined) throw refused()
  const passkey = await deps.repositories.passkeys.findByCredentialId(credential.id)
  if (passkey === undefined) throw withSecurityEvent(refused(), { event: 'login_failed' })
  // A discoverable credential names its user: it must be the passkey's.
  const handle = credential.response.userHandle
  if (handle != null && handle !== Buffer.from(userHandleOf(passkey.userId)).toString('base64url')) {
    throw withSecurityEvent(refused(), { event: 'login_failed', accountId: passkey.userId })
  }
  const user = await deps.repositories.users.findById(passkey.userId)
  if (user === undefined) throw refused()
  const verified = await verifyAssertion(deps, passkey, credential, taken.challenge, true, refused())
  if (verified === undefined || !verified.userVerified) throw withSecurityEvent(refused(), { event: 'login_failed', accountId: user.id })
  assertMayLogIn(deps, user, deps.now())
  return startSession(deps, user, client, undefined, false, [verified.method, 'user'])
}
