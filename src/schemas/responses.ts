// Response declarations shared by routes: problem+json errors and the headers they carry.
import { STATUS_CODES } from 'node:http'
import { Problem, ref } from './shared.js'

const problemContent = { 'application/problem+json': { schema: ref(Problem) } }

/** `{ 401: {...}, 409: {...} }`: problem+json responses for each status, documented for OpenAPI. */
export function problems (...codes: Array<[number, string]>) {
  const responses: Record<number, { description: string, content: typeof problemContent }> = {}
  for (const [status, description] of codes) {
    responses[status] = { description: `${STATUS_CODES[status]}: ${description}`, content: problemContent }
  }
  return responses
}

export const VALIDATION: [number, string] = [400, '`validation_failed` (unknown, missing or malformed fields), or a body that is not JSON.']
export const TOO_LARGE: [number, string] = [413, '`payload_too_large`: the body is over 64 KiB.']
export const UNSUPPORTED: [number, string] = [415, '`unsupported_media_type`: the body is not JSON.']
export const UNAUTHENTICATED: [number, string] = [401, '`not_authenticated` (no token), `token_not_valid` (bad, expired or revoked) or `user_inactive`.']
export const STEP_UP: [number, string] = [401, '`not_authenticated`, `token_not_valid`, `user_inactive`, or `step_up_required` when the user has a second factor and the token is not `acr: aal2` (with `WWW-Authenticate: Bearer error="insufficient_user_authentication", acr_values="aal2"`, RFC 9470): raise the session with `POST /api/auth/mfa/step-up` and retry with its token.']
export const PERMISSION_DENIED: [number, string] = [403, '`permission_denied`: the user lacks a permission this operation requires.']

export const RATE_LIMITED: [number, string] = [429, '`rate_limited`: too many requests; retry after `Retry-After` seconds.']
export const BUSY: [number, string] = [503, '`server_busy`: too many passwords are being hashed at once; retry after `Retry-After` seconds.']

/** Errors every route with a JSON body can answer. */
export const bodyErrors: Array<[number, string]> = [VALIDATION, TOO_LARGE, UNSUPPORTED]
