// Bodies and answers of the MFA routes.
import { Type } from '@sinclair/typebox'

export const TotpCode = Type.String({ minLength: 1, maxLength: 64, description: 'The 6-digit code the authenticator app shows now (or a recovery code, with `method: "recovery_code"`).', examples: ['123456'] })

export const CodeMethod = Type.Union([Type.Literal('totp'), Type.Literal('recovery_code')], { description: '`totp`: a code of the authenticator app; `recovery_code`: one of the recovery codes (each works once).' })

export const SecondFactorMethod = Type.Union([Type.Literal('totp'), Type.Literal('recovery_code'), Type.Literal('webauthn')], { description: '`totp`: a code of the authenticator app (in `code`); `recovery_code`: one of the recovery codes, each works once (in `code`); `webauthn`: a passkey\'s assertion (in `credential`), for the challenge of `POST /api/auth/mfa/webauthn/options`.' })

export const RecoveryCodes = Type.Object({
  recovery_codes: Type.Array(Type.String({ description: 'A single-use code, `xxxx-xxxx-xxxx`.' }), { description: 'The 10 recovery codes: shown this once, store them safely. Any older codes no longer work.', examples: [['7k2m-9q4d-x1vz', 'c83p-0w5t-hn6r']] })
}, { additionalProperties: false })

export const MfaStatus = Type.Object({
  totp: Type.Boolean({ description: 'Whether a confirmed authenticator app (TOTP) is set up.' }),
  passkeys: Type.Array(Type.Object({
    id: Type.String({ description: 'The passkey\'s id.', examples: ['0b5c3f6e-8a1d-4c2b-9e7f-1a2b3c4d5e6f'] }),
    name: Type.String({ description: 'The name the user gave it.', examples: ['MacBook Touch ID'] }),
    created_at: Type.String({ format: 'date-time', description: 'When it was registered.' }),
    last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When it was last used, or null.' })
  }, { additionalProperties: false }), { description: 'The registered passkeys.' }),
  recovery_codes_left: Type.Integer({ description: 'How many recovery codes are still unused.', examples: [10] })
}, { additionalProperties: false, description: 'The second factors of the user (never their secrets).' })

/** A TOTP code cannot be checked or a secret stored: an operator's mistake, never counted as a wrong code. */
export const MFA_UNAVAILABLE: [number, string] = [503, '`mfa_unavailable`: the server has no `KEY_ENCRYPTION_KEY`, or not the one the authenticator secrets were stored with (an operator must restore it). The code is not checked, and not counted against the limit.']
