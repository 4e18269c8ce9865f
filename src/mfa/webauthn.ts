// WebAuthn ceremonies (@simplewebauthn/server): challenges issued and used up once, and the checks of a registration or an assertion.
import { randomBytes, randomUUID } from 'node:crypto'
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON
} from '@simplewebauthn/server'
import type { MfaChallengePurpose, PasskeyRecord } from '../../db/repositories.js'
import type { AuthenticationCredential, RegistrationCredential } from '../schemas/webauthn.js'
import type { AuthDeps } from '../deps.js'
import { errors } from '../errors.js'
import { withSecurityEvent } from '../http/security-events.js'
import { hashOpaqueToken } from '../sessions/opaque-tokens.js'

/** A challenge lives as long as an mfa_token: 5 minutes. */
export const WEBAUTHN_CHALLENGE_TTL_SECONDS = 300
/** ES256, EdDSA and RS256 (COSE ids): what every platform authenticator and security key offers. */
export const SUPPORTED_ALGORITHMS = [-7, -8, -257]

// @simplewebauthn/server and the certificate stack under it (~4 MiB of heap, ~250 modules) are imported
// by the first ceremony, not at start: most deployments see few passkeys, and many none.

export type WebauthnPurpose = Exclude<MfaChallengePurpose, 'login'>

/** Request options with `allowCredentials` always present (empty: any discoverable credential). */
export type RequestOptionsJSON = PublicKeyCredentialRequestOptionsJSON & { allowCredentials: NonNullable<PublicKeyCredentialRequestOptionsJSON['allowCredentials']> }

export interface IssuedChallenge {
  id: string
  userId: string | null
  data: Record<string, unknown>
  /** base64url, as the client echoes it in clientDataJSON. */
  challenge: string
}

/** The WebAuthn user handle of a user: its id, UTF-8. */
export function userHandleOf (userId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(userId, 'utf8'))
}

/** A new random challenge (256 bits), stored hashed, single-use, for 5 minutes. */
async function issueChallenge (deps: AuthDeps, purpose: WebauthnPurpose, userId: string | null, data: Record<string, unknown> = {}): Promise<Uint8Array<ArrayBuffer>> {
  const challenge = randomBytes(32)
  const now = deps.now()
  await deps.repositories.mfa.issueChallenge({
    id: randomUUID(),
    purpose,
    tokenHash: hashOpaqueToken(challenge.toString('base64url')),
    userId,
    data: JSON.stringify(data),
    createdAt: now,
    expiresAt: new Date(now.getTime() + WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000)
  })
  return new Uint8Array(challenge)
}

/** The challenge a response answers, read from its clientDataJSON; undefined when unreadable. */
function challengeOf (clientDataJSON: string): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown }
    return typeof parsed.challenge === 'string' && parsed.challenge.length > 0 && parsed.challenge.length <= 256 ? parsed.challenge : undefined
  } catch {
    return undefined
  }
}

function parseData (data: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(data)
    return typeof parsed === 'object' && parsed !== null ? parsed as Record<string, unknown> : {}
  } catch {
    return {}
  }
}

/**
 * Uses up the live challenge of `purpose` that a response answers, before anything else is checked:
 * a challenge works once, whatever the outcome, and of two concurrent uses only one gets it (the
 * repository's conditional update). Undefined when unknown, expired, used, or issued for another purpose.
 */
export async function takeChallenge (deps: AuthDeps, purpose: WebauthnPurpose, clientDataJSON: string): Promise<IssuedChallenge | undefined> {
  const challenge = challengeOf(clientDataJSON)
  if (challenge === undefined) return undefined
  const found = await deps.repositories.mfa.findChallenge(hashOpaqueToken(challenge), purpose, deps.now())
  if (found === undefined || !await deps.repositories.mfa.consumeChallenge(found.id, deps.now())) return undefined
  return { id: found.id, userId: found.userId, data: parseData(found.data), challenge }
}

/** The passkeys an assertion may name (only their credential ids and transports). */
export type CredentialDescriptorSource = Pick<PasskeyRecord, 'credentialId' | 'transports'>

function descriptors (passkeys: CredentialDescriptorSource[]): Array<{ id: string, transports?: string[] }> {
  return passkeys.map(passkey => ({ id: passkey.credentialId, ...(passkey.transports.length > 0 && { transports: passkey.transports }) }))
}

/** Creation options for a new passkey of `user`; its existing ones are excluded (an authenticator registers once). */
export async function creationOptions (deps: AuthDeps, user: { id: string, email: string, username: string }): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { rpId, rpName } = deps.config.webauthn
  const existing = await deps.repositories.passkeys.listByUser(user.id)
  const challenge = await issueChallenge(deps, 'passkey_registration', user.id)
  const { generateRegistrationOptions } = await import('@simplewebauthn/server')
  return generateRegistrationOptions({
    rpName,
    rpID: rpId,
    userName: user.email,
    userDisplayName: user.username,
    userID: userHandleOf(user.id),
    challenge,
    timeout: WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000,
    attestationType: 'none',
    excludeCredentials: descriptors(existing),
    // Discoverable (a resident key), so that the passkey can log in without a username too.
    authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    supportedAlgorithmIDs: SUPPORTED_ALGORITHMS
  })
}

/** Request options for an assertion by one of `passkeys` (none: any discoverable credential of this site). */
export async function requestOptions (deps: AuthDeps, purpose: WebauthnPurpose, userId: string | null, passkeys: CredentialDescriptorSource[], userVerification: 'required' | 'preferred', data: Record<string, unknown> = {}): Promise<RequestOptionsJSON> {
  const challenge = await issueChallenge(deps, purpose, userId, data)
  const { generateAuthenticationOptions } = await import('@simplewebauthn/server')
  const options = await generateAuthenticationOptions({
    rpID: deps.config.webauthn.rpId,
    challenge,
    timeout: WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000,
    allowCredentials: descriptors(passkeys),
    userVerification
  })
  return { ...options, allowCredentials: options.allowCredentials ?? [] }
}

/** What a verified registration says of the new credential: the passkey record but for its id, owner, name and times. */
export type VerifiedRegistration = Pick<PasskeyRecord, 'credentialId' | 'publicKey' | 'counter' | 'transports' | 'aaguid' | 'backupEligible' | 'backedUp'>

/** Checks a registration response against the user's live registration challenge; 400 invalid_credential otherwise. */
export async function verifyRegistration (deps: AuthDeps, userId: string, credential: RegistrationCredential): Promise<VerifiedRegistration> {
  const taken = await takeChallenge(deps, 'passkey_registration', credential.response.clientDataJSON)
  if (taken === undefined || taken.userId !== userId) throw errors.invalidCredential(400, 'The passkey response answers no live registration challenge of this user: ask for new options.')
  const { rpId, origins } = deps.config.webauthn
  const { verifyRegistrationResponse } = await import('@simplewebauthn/server')
  let verified
  try {
    verified = await verifyRegistrationResponse({
      response: { ...credential, authenticatorAttachment: credential.authenticatorAttachment ?? undefined, clientExtensionResults: credential.clientExtensionResults ?? {} } as RegistrationResponseJSON,
      expectedChallenge: taken.challenge,
      expectedOrigin: origins,
      expectedRPID: rpId,
      // Registering is not logging in: a passkey without user verification is still a second factor.
      requireUserVerification: false,
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS
    })
  } catch {
    verified = undefined
  }
  if (verified?.verified !== true) throw errors.invalidCredential(400)
  const info = verified.registrationInfo
  return {
    credentialId: info.credential.id,
    publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
    counter: info.credential.counter,
    transports: credential.response.transports?.filter(transport => typeof transport === 'string') ?? [],
    aaguid: info.aaguid,
    backupEligible: info.credentialDeviceType === 'multiDevice',
    backedUp: info.credentialBackedUp
  }
}

export interface VerifiedAssertion {
  userVerified: boolean
  /** RFC 8176: `swk` for a passkey that may be synced between devices, `hwk` for one bound to its authenticator. */
  method: 'hwk' | 'swk'
}

/**
 * Checks an assertion by `passkey` for `challenge`, then records the use (counter, last use). Undefined
 * when it does not verify (origin, relying party, signature, user verification when required) or a
 * concurrent use of the same counter won. A counter that does not increase after a valid signature
 * (a cloned authenticator) is refused too, and logged as a security event with the credential id.
 */
export async function verifyAssertion (deps: AuthDeps, passkey: PasskeyRecord, credential: AuthenticationCredential, challenge: string, requireUserVerification: boolean, refusal: Error): Promise<VerifiedAssertion | undefined> {
  const { rpId, origins } = deps.config.webauthn
  const { verifyAuthenticationResponse } = await import('@simplewebauthn/server')
  let verified
  try {
    verified = await verifyAuthenticationResponse({
      response: {
        ...credential,
        response: { ...credential.response, userHandle: credential.response.userHandle ?? undefined },
        authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
        clientExtensionResults: credential.clientExtensionResults ?? {}
      } as AuthenticationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: origins,
      expectedRPID: rpId,
      // The counter is checked below, once the signature is known to be good: an unsigned counter
      // proves nothing, and only a signed one that went backwards points at a clone.
      credential: { id: passkey.credentialId, publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')), counter: 0, transports: passkey.transports },
      requireUserVerification
    })
  } catch {
    return undefined
  }
  if (!verified.verified) return undefined
  const { newCounter, credentialBackedUp, userVerified } = verified.authenticationInfo
  if ((newCounter > 0 || passkey.counter > 0) && newCounter <= passkey.counter) {
    throw withSecurityEvent(refusal, { event: 'passkey_counter_regressed', accountId: passkey.userId, credentialId: passkey.credentialId })
  }
  if (!await deps.repositories.passkeys.recordUse(passkey.id, passkey.counter, newCounter, credentialBackedUp, deps.now())) return undefined
  return { userVerified, method: passkey.backupEligible ? 'swk' : 'hwk' }
}
