// The second-factor answer of a request body: a code for `totp` and `recovery_code`, an assertion for `webauthn`.
import { errors } from '../errors.js'
import type { AuthenticationCredential } from '../schemas/webauthn.js'
import type { SecondFactorAnswer, SecondFactorMethod } from './second-factor.js'

/** The answer the body gives; 400 validation_failed when `code` and `credential` do not fit `method`. */
export function answerOf (body: { method: SecondFactorMethod, code?: string, credential?: AuthenticationCredential }): SecondFactorAnswer {
  if (body.method === 'webauthn') {
    if (body.credential === undefined || body.code !== undefined) {
      throw errors.validation([{ field: 'credential', message: 'method webauthn takes a credential and no code' }], 'A passkey answers with `credential`, not `code`.')
    }
    return { method: 'webauthn', credential: body.credential }
  }
  if (body.code === undefined || body.credential !== undefined) {
    throw errors.validation([{ field: 'code', message: `method ${body.method} takes a code and no credential` }], 'A code answers with `code`, not `credential`.')
  }
  return { method: body.method, code: body.code }
}
