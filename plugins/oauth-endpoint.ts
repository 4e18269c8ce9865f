// What makes a route an OAuth endpoint, registered by each of routes/oauth/* into its own scope only:
// form-encoded bodies besides JSON, blank parameters treated as absent, and RFC 6749 §5.2 errors
// instead of problem+json. The rest of the API stays JSON-only.
import fp from 'fastify-plugin'
import formbody from '@fastify/formbody'
import type { FastifyError, FastifyRequest } from 'fastify'
import { ProblemError } from '../src/errors.js'
import { OAuthError } from '../src/oauth/errors.js'
import { validationErrors } from './error-handler.js'

const ERROR_BY_STATUS: Record<number, string> = {
  401: 'invalid_client',
  429: 'rate_limited',
  503: 'temporarily_unavailable'
}

/** RFC 6749 §3.2: "Parameters sent without a value MUST be treated as if they were omitted." */
async function blankParametersOmitted (request: FastifyRequest): Promise<void> {
  // A bodiless POST is no parameters at all; the schema then names what is missing.
  if (request.body === undefined) request.body = {}
  const body = request.body as Record<string, unknown>
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return
  for (const [name, value] of Object.entries(body)) if (value === '') delete body[name]
}

export default fp(async function oauthEndpoint (fastify) {
  // Parses with fast-querystring: a repeated parameter becomes an array, which the string schemas refuse.
  await fastify.register(formbody)
  fastify.addHook('preValidation', blankParametersOmitted)

  fastify.setErrorHandler(function (error: FastifyError, request, reply) {
    let status: number
    let body: { error: string, error_description: string }
    let headers: Record<string, string> = {}
    if (error instanceof OAuthError) {
      status = error.statusCode
      body = { error: error.error, error_description: error.message }
      headers = error.headers
    } else if (error.validation) {
      const details = validationErrors(error.validation, error.validationContext ?? 'body').map(e => `${e.field} ${e.message}`)
      status = 400
      body = { error: 'invalid_request', error_description: `The request is not valid: ${details.join('; ')}.` }
    } else if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      // Fastify's own refusals (a body that is not JSON or too large, an unknown media type) and the shared rate limit.
      status = error.statusCode
      body = { error: ERROR_BY_STATUS[status] ?? 'invalid_request', error_description: error.message }
      if (error instanceof ProblemError) headers = error.headers
    } else if (error instanceof ProblemError && error.statusCode === 503) {
      status = 503
      body = { error: 'temporarily_unavailable', error_description: error.message }
      headers = error.headers
    } else {
      request.log.error({ err: error }, 'request failed')
      status = 500
      body = { error: 'server_error', error_description: `An unexpected error occurred. Quote request id ${request.id} when reporting it.` }
    }
    if (status < 500) request.log.info({ err: error }, 'oauth request refused')
    // Sent pre-serialised: the route's response schemas must not filter an error body.
    return reply.code(status).headers({ ...headers, 'cache-control': 'no-store', pragma: 'no-cache' })
      .type('application/json; charset=utf-8').send(JSON.stringify(body))
  })
}, { name: 'oauth-endpoint', dependencies: ['error-handler'] })
