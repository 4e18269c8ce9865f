// The statuses any operation can answer besides its own: refusals made before the route runs (the
// router, the body parser) and a database that is down, added to each operation's OpenAPI responses.
import { STATUS_CODES } from 'node:http'

interface Response { description: string, content?: Record<string, unknown> }
interface Operation { responses?: Record<string, Response>, parameters?: Array<{ in?: string }> }

/** Methods whose bodies Fastify parses whatever the route declares (a route without a body still meets the parser). */
const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete'])

/** Operations that need nothing that can be unavailable. */
const ALWAYS_AVAILABLE = new Set(['get /health/live'])

const PROBLEM = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } }

export const ANY_OPERATION_NOTE = 'Besides its own responses, every operation documents the refusals that come before it runs: ' +
  '`400 malformed_request` or `validation_failed` for a path segment that is not valid percent-encoding or a path parameter over its length limit, ' +
  '`414 uri_too_long` for a path parameter longer than 100 characters, `400`/`413`/`415` for a body that is not JSON, is over 64 KiB or is not UTF-8 ' +
  '(on every POST, PUT, PATCH and DELETE, with or without a declared body; a body in another charset is a `415` on any method), and `503 service_unavailable` (with `Retry-After`) while the database is unavailable or busy. ' +
  'OAuth endpoints answer these in RFC 6749 form.'

type Shared = Array<[number, string, string]>

function sharedFor (path: string, method: string): Shared {
  const shared: Shared = []
  if (path.includes('{')) {
    shared.push(
      [400, '`malformed_request`: a path segment that is not valid percent-encoding; `validation_failed`: a path parameter over its length limit.', '`invalid_request`: a path parameter that is not valid percent-encoding or over its length limit.'],
      [414, '`uri_too_long`: a path parameter is longer than 100 characters.', '`uri_too_long` (problem+json): a path parameter is longer than 100 characters.'])
  }
  if (BODY_METHODS.has(method)) {
    shared.push(
      [400, '`malformed_request` or `validation_failed`: a body that is not valid JSON.', '`invalid_request`: a body that cannot be parsed.'],
      [413, '`payload_too_large`: the body is over 64 KiB.', '`invalid_request`: the body is over 64 KiB.'],
      [415, '`unsupported_media_type`: the body is not JSON, or its charset is not UTF-8.', '`invalid_request`: the body is neither form-encoded nor JSON, or its charset is not UTF-8.'])
  } else {
    // Fastify ignores these methods' bodies, but the charset check sees one all the same.
    shared.push([415, '`unsupported_media_type`: a request body (otherwise ignored) declared in a charset other than UTF-8.', '`invalid_request`: a request body declared in a charset other than UTF-8.'])
  }
  if (!ALWAYS_AVAILABLE.has(`${method} ${path}`)) {
    shared.push([503, '`service_unavailable`: the database is unavailable or busy; retry after `Retry-After` seconds.', '`temporarily_unavailable`: the database is unavailable or busy; retry after `Retry-After` seconds.'])
  }
  return shared
}

/** Whether the operation answers errors in RFC 6749 form (`application/json` `{error, error_description}`). */
function isOAuth (op: Operation): boolean {
  return Object.entries(op.responses ?? {}).some(([status, response]) =>
    Number(status) >= 400 && response.content !== undefined && 'application/json' in response.content)
}

/**
 * Adds the shared statuses to an operation of the document: a status it does not document yet gets
 * the shared description (problem+json, or the OAuth error of its other errors); one it documents
 * for reasons of its own is left as it is.
 */
export function documentAnyOperation (path: string, method: string, operation: object): void {
  const op = operation as Operation
  const responses = op.responses ??= {}
  const oauth = isOAuth(op)
  const oauthContent = oauth
    ? Object.entries(responses).find(([status, response]) =>
      Number(status) >= 400 && response.content !== undefined && 'application/json' in response.content)?.[1].content
    : undefined
  const merged = new Map<number, [string, string]>()
  for (const [status, description, oauthError] of sharedFor(path, method)) {
    const before = merged.get(status)
    merged.set(status, [before === undefined ? description : `${before[0]} ${description}`, oauthError])
  }
  for (const [status, [description, oauthError]] of merged) {
    const key = String(status)
    if (key in responses) continue
    responses[key] = oauth
      ? { description: `${STATUS_CODES[status]}: ${oauthError}`, content: oauthContent }
      : { description: `${STATUS_CODES[status]}: ${description}`, content: PROBLEM }
  }
}

/**
 * The 403 that MFA_REQUIRED_FOR adds to an operation behind `authenticate` (plugins/authenticate.ts):
 * admin operations for every policy, the others for `all` only. Added to the operation's own 403, if any.
 */
export function documentMfaPolicy (path: string, operation: object): void {
  const responses = (operation as Operation).responses ??= {}
  const who = path.startsWith('/api/admin/')
    ? 'the caller is in the scope of `MFA_REQUIRED_FOR` (`staff`, `superuser` or `all`)'
    : '`MFA_REQUIRED_FOR=all`'
  const note = `\`mfa_enrolment_required\`: ${who} and has no second factor yet: set one up first (\`/api/auth/mfa/totp\`).`
  const own = responses['403']
  if (own === undefined) responses['403'] = { description: `${STATUS_CODES[403]}: ${note}`, content: PROBLEM }
  else if (!own.description.includes('mfa_enrolment_required')) own.description = `${own.description} ${note}`
}
