// Request and response schemas shared by the social login routes.
import { Type } from '@sinclair/typebox'
import { LoginResponse, MfaRequired } from '../schemas/shared.js'

export const ProviderParams = Type.Object({
  provider: Type.String({ minLength: 1, maxLength: 64, description: 'An enabled provider: `google` or `github`.', examples: ['github'] })
}, { additionalProperties: false })

/** What a client that ran the provider's authorization step itself (with its own PKCE pair) sends. */
export const ClientGrantBody = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 2048, description: 'The authorization code the provider sent to `redirect_uri`.' }),
  // RFC 7636 §4.1: 43 to 128 unreserved characters.
  code_verifier: Type.String({ minLength: 43, maxLength: 128, pattern: '^[A-Za-z0-9._~-]+$', description: 'The PKCE verifier whose S256 challenge the client sent to the provider.' }),
  redirect_uri: Type.String({ minLength: 1, maxLength: 2048, description: 'The redirect URI the code was issued to: the callback URL or one under `SOCIAL_REDIRECT_ALLOWLIST`.' }),
  nonce: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'For Google: the `nonce` the client sent to the provider, checked against the ID token. Leave out if none was sent.' }))
}, {
  additionalProperties: false,
  examples: [{ code: '4/0AX4XfWh…', code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', redirect_uri: 'https://app.example.com/auth/callback' }]
})

export const SocialLoginResponse = Type.Object({
  ...LoginResponse.properties,
  created: Type.Boolean({ description: 'True when this login created the account.' })
}, { $id: 'SocialLoginResponse', additionalProperties: false, description: 'Like login, plus whether the account is new.' })

export const SocialMfaRequired = Type.Object({
  ...MfaRequired.properties,
  created: Type.Literal(false, { description: 'Always false: an account with a second factor existed before.' })
}, { $id: 'SocialMfaRequired', additionalProperties: false, description: 'The provider vouched for the user, and the account has a second factor: finish with `POST /api/auth/mfa/verify`.' })

export const SocialProviderInfo = Type.Object({
  name: Type.String({ description: 'The provider, as used in the paths.', examples: ['github'] }),
  authorize_url: Type.String({ description: 'Where to send the browser to log in with it (add `redirect_to`).', examples: ['https://auth.example.com/api/auth/social/github/authorize'] })
}, { $id: 'SocialProvider', additionalProperties: false })

/** Errors of the code exchange, common to login and link. */
export const GRANT_PROBLEMS: Array<[number, string]> = [
  [400, '`invalid_grant` (the provider refused the code or the `code_verifier`), `invalid_redirect` (a `redirect_uri` that is not allowed), or `validation_failed`.'],
  [404, '`unknown_provider`: no such provider is enabled.'],
  [502, '`provider_unavailable` (the provider could not be reached or failed) or `provider_error` (its answer failed validation, e.g. an ID token with a bad signature, issuer, audience or nonce).']
]
