// simplejwt's wire format: DRF's field errors and `{detail, code}` bodies, for the /api/token/ routes.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { ProblemError } from '../errors.js'

export const NO_ACTIVE_ACCOUNT = 'No active account found with the given credentials'
export const TOKEN_NOT_VALID = 'Token is invalid or expired'

/** A simplejwt answer that is not problem+json: its status and DRF's JSON body. */
export class SimplejwtError extends Error {
  constructor (readonly statusCode: number, readonly body: Record<string, unknown>, readonly headers: Record<string, string> = {}) {
    super(typeof body.detail === 'string' ? body.detail : 'invalid request')
    this.name = 'SimplejwtError'
  }
}

// simplejwt's views answer 401 with this challenge (TokenViewBase.www_authenticate_realm).
const CHALLENGE = { 'www-authenticate': 'Bearer realm="api"' }

export const noActiveAccount = () => new SimplejwtError(401, { detail: NO_ACTIVE_ACCOUNT }, CHALLENGE)
// simplejwt has no second step: an account with a second factor logs in at /api/auth/login instead.
export const SECOND_FACTOR_NEEDED = 'This account has a second factor: log in at /api/auth/login'
export const secondFactorNeeded = () => new SimplejwtError(401, { detail: SECOND_FACTOR_NEEDED, code: 'mfa_required' }, CHALLENGE)
export const tokenNotValid = () => new SimplejwtError(401, { detail: TOKEN_NOT_VALID, code: 'token_not_valid' }, CHALLENGE)

// The characters Python's str.strip() removes (str.isspace()): JavaScript's trim() also removes U+FEFF, and not U+001C–U+001F or U+0085.
const PYTHON_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
const SURROUNDING_SPACE = new RegExp(`^[${PYTHON_SPACE}]+|[${PYTHON_SPACE}]+$`, 'g')
/** `value.strip()` as Python does it. */
export function pythonStrip (value: string): string {
  return value.replace(SURROUNDING_SPACE, '')
}

/**
 * DRF's CharField (trim_whitespace=True, allow_blank=False), which simplejwt's serializers use for every
 * field, checked in the serializer's field order: the stripped strings of the fields, or
 * `400 {"<field>": ["This field is required."]}` listing every bad field with DRF's messages.
 */
export function charFields<K extends string> (body: unknown, fields: readonly K[]): Record<K, string> {
  const record = body !== null && typeof body === 'object' && !Array.isArray(body) ? body as Record<string, unknown> : {}
  const problems: Record<string, string[]> = {}
  const values: Record<string, string> = {}
  for (const field of fields) {
    const value = record[field]
    if (value === undefined) problems[field] = ['This field is required.']
    else if (value === null) problems[field] = ['This field may not be null.']
    else if (typeof value !== 'string' && typeof value !== 'number') problems[field] = ['Not a valid string.']
    else {
      const stripped = pythonStrip(String(value))
      const invalid: string[] = []
      if (stripped === '') invalid.push('This field may not be blank.')
      else {
        // DRF's validators of every CharField, on the stripped value.
        if (stripped.includes('\0')) invalid.push('Null characters are not allowed.')
        const surrogate = /[\ud800-\udfff]/.exec(stripped.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))
        if (surrogate !== null) invalid.push(`Surrogate characters are not allowed: U+${surrogate[0].charCodeAt(0).toString(16).toUpperCase()}.`)
      }
      if (invalid.length > 0) problems[field] = invalid
      else values[field] = stripped
    }
  }
  if (Object.keys(problems).length > 0) throw new SimplejwtError(400, problems)
  return values as Record<K, string>
}

/** The bodies simplejwt's views parse (DRF's default parsers but multipart): JSON, or a form. */
export const SIMPLEJWT_CONSUMES = ['application/json', 'application/x-www-form-urlencoded']

/**
 * A form body as DRF reads it: a field given twice is its last value (`QueryDict[key]`), `+` is a
 * space, and bytes that are not UTF-8 become U+FFFD; an empty value is there, and blank.
 */
export function parseForm (body: string): Record<string, string> {
  const fields: Record<string, string> = Object.create(null)
  for (const [name, value] of new URLSearchParams(body)) fields[name] = value
  return fields
}

function throttled (seconds: number): SimplejwtError {
  return new SimplejwtError(429, { detail: `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? '' : 's'}.` }, { 'retry-after': String(seconds) })
}

/**
 * The error handler of the simplejwt routes: their own errors as DRF writes them, and the body
 * parser's and the limits' in DRF's `{detail}` shape too, since their clients read nothing else.
 */
export function simplejwtErrorHandler (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let answer: SimplejwtError
  if (error instanceof SimplejwtError) answer = error
  else if (error instanceof ProblemError && error.code === 'rate_limited') answer = throttled(Number(error.headers['retry-after'] ?? 1))
  else if (error instanceof ProblemError && error.statusCode === 503) answer = new SimplejwtError(503, { detail: error.message }, error.headers)
  else if ((error as FastifyError).statusCode === 429) answer = throttled(Number(reply.getHeader('retry-after') ?? 60))
  else if ((error as FastifyError).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    answer = new SimplejwtError(415, { detail: `Unsupported media type "${request.headers['content-type'] ?? ''}" in request.` })
  } else if ((error as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE') answer = new SimplejwtError(413, { detail: 'Request body is too large.' })
  else if ((error as FastifyError).statusCode === 400) answer = new SimplejwtError(400, { detail: `JSON parse error - ${error.message}` })
  else throw error
  return reply.code(answer.statusCode).headers(answer.headers).type('application/json').send(answer.body)
}

// The response schemas, documented in OpenAPI under the `django` tag.
export const Detail = Type.Object({
  detail: Type.String({ description: 'What went wrong, in simplejwt\'s words.', examples: [TOKEN_NOT_VALID] }),
  code: Type.Optional(Type.String({ description: '`token_not_valid` for a bad token.', examples: ['token_not_valid'] }))
}, { additionalProperties: false, description: 'simplejwt\'s error body (not problem+json).' })

export const FieldErrors = Type.Record(Type.String(), Type.Union([Type.Array(Type.String()), Type.String()]), {
  description: 'DRF\'s validation errors: each bad field with its messages, e.g. `{"email": ["This field is required."]}`; or `{detail}` for a body that is not JSON.'
})

export const detailResponse = (description: string) => ({ ...Detail, description })
