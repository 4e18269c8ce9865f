// WebAuthn in JSON (the WebAuthn Level 3 JSON forms, as PublicKeyCredential.toJSON() and @simplewebauthn/browser give them): options out, credentials in.
import { Type, type Static } from '@sinclair/typebox'

const REGISTRATION_EXAMPLE = {
  id: 'pQ0uMQ2lB7iH3xk2yN8aRw',
  rawId: 'pQ0uMQ2lB7iH3xk2yN8aRw',
  type: 'public-key',
  response: {
    clientDataJSON: 'eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoicTJWZlk3ZEp4MXQ4QzRtWnAwTHdSazNuQjZzSGE5dUU1eVRnTzJpV3ZYYyIsIm9yaWdpbiI6Imh0dHBzOi8vZXhhbXBsZS5jb20ifQ',
    attestationObject: 'o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVikSZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2NFAAAAAA',
    transports: ['internal', 'hybrid']
  },
  authenticatorAttachment: 'platform',
  clientExtensionResults: { credProps: { rk: true } }
}

const ASSERTION_EXAMPLE = {
  id: 'pQ0uMQ2lB7iH3xk2yN8aRw',
  rawId: 'pQ0uMQ2lB7iH3xk2yN8aRw',
  type: 'public-key',
  response: {
    clientDataJSON: 'eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoicTJWZlk3ZEp4MXQ4QzRtWnAwTHdSazNuQjZzSGE5dUU1eVRnTzJpV3ZYYyIsIm9yaWdpbiI6Imh0dHBzOi8vZXhhbXBsZS5jb20ifQ',
    authenticatorData: 'SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ',
    signature: 'MEUCIQDx9a1XbM2wQ0pVh8mE3sKqYv9FJZp6Lw1n3k7dTgE2AgIgPq5Lr1uV0c9mZx4s8YbW3nT7eHkJ2aR6fG1vD0yC5sQ',
    userHandle: 'N2YxYzNhNWUtOWQyYi00YzZmLWIxZTMtOGE0ZDJmNmMwYjFl'
  },
  authenticatorAttachment: 'platform',
  clientExtensionResults: {}
}

export const CREATION_OPTIONS_EXAMPLE = {
  challenge: 'q2VfY7dJx1t8C4mZp0LwRk3nB6sHa9uE5yTgO2iWvXc',
  rp: { name: 'Portcullis', id: 'example.com' },
  user: { id: 'N2YxYzNhNWUtOWQyYi00YzZmLWIxZTMtOGE0ZDJmNmMwYjFl', name: 'ada@example.com', displayName: 'ada' },
  pubKeyCredParams: [{ alg: -7, type: 'public-key' }, { alg: -8, type: 'public-key' }, { alg: -257, type: 'public-key' }],
  timeout: 300000,
  attestation: 'none',
  excludeCredentials: [{ id: 'pQ0uMQ2lB7iH3xk2yN8aRw', type: 'public-key', transports: ['internal', 'hybrid'] }],
  authenticatorSelection: { residentKey: 'required', userVerification: 'preferred', requireResidentKey: true },
  extensions: { credProps: true },
  hints: []
}

export const REQUEST_OPTIONS_EXAMPLE = {
  rpId: 'example.com',
  challenge: 'q2VfY7dJx1t8C4mZp0LwRk3nB6sHa9uE5yTgO2iWvXc',
  allowCredentials: [{ id: 'pQ0uMQ2lB7iH3xk2yN8aRw', type: 'public-key', transports: ['internal', 'hybrid'] }],
  timeout: 300000,
  userVerification: 'preferred'
}

export { ASSERTION_EXAMPLE, REGISTRATION_EXAMPLE }

const Base64Url = (description: string, maxLength = 4096) => Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]*={0,2}$', description })

const Transport = Type.String({ maxLength: 32, description: 'How the client reaches the authenticator: `usb`, `nfc`, `ble`, `internal`, `hybrid`, ...' })

const AuthenticatorAttachment = Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')], { description: 'Whether the authenticator is built into the device (`platform`) or roams (`cross-platform`).' })
// Some clients write an unknown attachment or an absent user handle as null rather than leaving it out.
const NullableAttachment = Type.Union([AuthenticatorAttachment, Type.Null()], { description: 'Whether the authenticator is built into the device (`platform`) or roams (`cross-platform`); null when unknown.' })

// Closed like every body: the outputs of the extensions browsers answer unasked or that the options ask for (credProps).
const ClientExtensionResults = Type.Optional(Type.Object({
  credProps: Type.Optional(Type.Object({ rk: Type.Optional(Type.Boolean({ description: 'Whether the credential is discoverable.' })) }, { additionalProperties: false, description: 'The credProps extension output.' })),
  appid: Type.Optional(Type.Boolean({ description: 'The appid extension output.' })),
  hmacCreateSecret: Type.Optional(Type.Boolean({ description: 'The hmac-secret extension output.' }))
}, { additionalProperties: false, description: 'The client extension outputs (getClientExtensionResults()); none is acted on.' }))

export const RegistrationCredential = Type.Object({
  id: Base64Url('The credential id, base64url.', 1024),
  rawId: Base64Url('The credential id again, base64url.', 1024),
  type: Type.Literal('public-key', { description: 'Always `public-key`.' }),
  response: Type.Object({
    clientDataJSON: Base64Url('The client data, base64url.'),
    attestationObject: Base64Url('The attestation object (CBOR), base64url.', 32768),
    authenticatorData: Type.Optional(Base64Url('The authenticator data, base64url.', 32768)),
    transports: Type.Optional(Type.Array(Transport, { maxItems: 8, description: 'The transports the authenticator supports.' })),
    publicKeyAlgorithm: Type.Optional(Type.Integer({ description: 'The COSE algorithm of the new key.' })),
    publicKey: Type.Optional(Base64Url('The new public key (SPKI), base64url.', 8192))
  }, { additionalProperties: false, description: 'The authenticator attestation response.' }),
  authenticatorAttachment: Type.Optional(NullableAttachment),
  clientExtensionResults: ClientExtensionResults
}, { additionalProperties: false, description: 'The new credential, `PublicKeyCredential.toJSON()` of `navigator.credentials.create()` (or @simplewebauthn/browser\'s `startRegistration()`).', examples: [REGISTRATION_EXAMPLE] })
export type RegistrationCredential = Static<typeof RegistrationCredential>

export const AuthenticationCredential = Type.Object({
  id: Base64Url('The credential id, base64url.', 1024),
  rawId: Base64Url('The credential id again, base64url.', 1024),
  type: Type.Literal('public-key', { description: 'Always `public-key`.' }),
  response: Type.Object({
    clientDataJSON: Base64Url('The client data, base64url.'),
    authenticatorData: Base64Url('The authenticator data, base64url.', 8192),
    signature: Base64Url('The assertion signature, base64url.', 2048),
    userHandle: Type.Optional(Type.Union([Base64Url('The user handle of a discoverable credential, base64url.', 256), Type.Null()], { description: 'The user handle of a discoverable credential, base64url; absent or null otherwise.' }))
  }, { additionalProperties: false, description: 'The authenticator assertion response.' }),
  authenticatorAttachment: Type.Optional(NullableAttachment),
  clientExtensionResults: ClientExtensionResults
}, { additionalProperties: false, description: 'The assertion, `PublicKeyCredential.toJSON()` of `navigator.credentials.get()` (or @simplewebauthn/browser\'s `startAuthentication()`).', examples: [ASSERTION_EXAMPLE] })
export type AuthenticationCredential = Static<typeof AuthenticationCredential>

const CredentialDescriptor = Type.Object({
  id: Type.String({ description: 'A credential id, base64url.' }),
  type: Type.String({ description: 'Always `public-key`.', examples: ['public-key'] }),
  transports: Type.Optional(Type.Array(Transport, { description: 'The transports it was registered with.' }))
}, { additionalProperties: false })

export const CreationOptions = Type.Object({
  challenge: Type.String({ description: 'The challenge, base64url: single-use, valid 5 minutes.', examples: ['q2VfY7dJx1t8C4mZp0LwRk3nB6sHa9uE5yTgO2iWvXc'] }),
  rp: Type.Object({
    name: Type.String({ description: 'The relying party\'s name (`WEBAUTHN_RP_NAME`).', examples: ['Portcullis'] }),
    id: Type.Optional(Type.String({ description: 'The relying party id (`WEBAUTHN_RP_ID`).', examples: ['example.com'] }))
  }, { additionalProperties: false, description: 'Who the passkey is for.' }),
  user: Type.Object({
    id: Type.String({ description: 'The user handle, base64url (the user\'s id).' }),
    name: Type.String({ description: 'The user\'s email address.', examples: ['ada@example.com'] }),
    displayName: Type.String({ description: 'The username.', examples: ['ada'] })
  }, { additionalProperties: false, description: 'The account the passkey will log in to.' }),
  pubKeyCredParams: Type.Array(Type.Object({
    alg: Type.Integer({ description: 'A COSE algorithm: -7 (ES256), -8 (EdDSA), -257 (RS256).' }),
    type: Type.Literal('public-key', { description: 'Always `public-key`.' })
  }, { additionalProperties: false }), { description: 'The key algorithms accepted, most preferred first.' }),
  timeout: Type.Optional(Type.Integer({ description: 'Milliseconds the browser may wait for the user.', examples: [300000] })),
  excludeCredentials: Type.Optional(Type.Array(CredentialDescriptor, { description: 'The user\'s passkeys: an authenticator holding one is not registered twice.' })),
  authenticatorSelection: Type.Optional(Type.Object({
    authenticatorAttachment: Type.Optional(AuthenticatorAttachment),
    residentKey: Type.Optional(Type.String({ description: '`required`: the passkey is discoverable, so it can log in without a username.' })),
    requireResidentKey: Type.Optional(Type.Boolean({ description: 'The same, for older browsers.' })),
    userVerification: Type.Optional(Type.String({ description: '`preferred`: a PIN or biometric check when the authenticator can do one.' }))
  }, { additionalProperties: false, description: 'What authenticator to use.' })),
  hints: Type.Optional(Type.Array(Type.String(), { description: 'Hints for the browser\'s UI.' })),
  attestation: Type.Optional(Type.String({ description: 'Always `none`: no attestation is asked for.' })),
  extensions: Type.Optional(Type.Object({
    credProps: Type.Optional(Type.Boolean({ description: 'Asks whether the credential is discoverable.' }))
  }, { additionalProperties: false, description: 'Extensions asked for.' }))
}, { additionalProperties: false, description: 'WebAuthn creation options in JSON: give them to `PublicKeyCredential.parseCreationOptionsFromJSON()` (or @simplewebauthn/browser\'s `startRegistration({ optionsJSON })`) and `navigator.credentials.create()`. `Cache-Control: no-store`.', examples: [CREATION_OPTIONS_EXAMPLE] })

export const RequestOptions = Type.Object({
  challenge: Type.String({ description: 'The challenge, base64url: single-use, valid 5 minutes.', examples: ['q2VfY7dJx1t8C4mZp0LwRk3nB6sHa9uE5yTgO2iWvXc'] }),
  timeout: Type.Optional(Type.Integer({ description: 'Milliseconds the browser may wait for the user.', examples: [300000] })),
  rpId: Type.Optional(Type.String({ description: 'The relying party id (`WEBAUTHN_RP_ID`).', examples: ['example.com'] })),
  allowCredentials: Type.Array(CredentialDescriptor, { description: 'The passkeys that may answer; empty: any discoverable passkey of this site (the browser offers the user its accounts).' }),
  userVerification: Type.Optional(Type.String({ description: '`required` for a passwordless login, `preferred` for a second factor.' })),
  hints: Type.Optional(Type.Array(Type.String(), { description: 'Hints for the browser\'s UI.' })),
  extensions: Type.Optional(Type.Object({}, { additionalProperties: false, description: 'Extensions asked for (none).' }))
}, { additionalProperties: false, description: 'WebAuthn request options in JSON: give them to `PublicKeyCredential.parseRequestOptionsFromJSON()` (or @simplewebauthn/browser\'s `startAuthentication({ optionsJSON })`) and `navigator.credentials.get()`. `Cache-Control: no-store`.', examples: [REQUEST_OPTIONS_EXAMPLE, { ...REQUEST_OPTIONS_EXAMPLE, allowCredentials: [], userVerification: 'required' }] })

export const PasskeyName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'A name for the user to tell its passkeys apart.', examples: ['MacBook Touch ID'] })

export const Passkey = Type.Object({
  id: Type.String({ description: 'The passkey\'s id.', examples: ['0b5c3f6e-8a1d-4c2b-9e7f-1a2b3c4d5e6f'] }),
  name: Type.String({ description: 'The name the user gave it.', examples: ['MacBook Touch ID'] }),
  created_at: Type.String({ format: 'date-time', description: 'When it was registered.' }),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When it was last used, or null.' })
}, { additionalProperties: false, description: 'A registered passkey (never its key).' })
