// Turns every error (domain, validation, Fastify's own) into RFC 9457 problem+json; hides 5xx details.
import { STATUS_CODES } from 'node:http'
import fp from 'fastify-plugin'
import { logSecurityEvent } from '../src/http/security-events.js'
import { isDatabaseUnavailable } from '../db/unavailable.js'
import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify'
import { ProblemError, type FieldError } from '../src/errors.js'

const CODE_BY_STATUS: Record<number, string> = {
  400: 'malformed_request',
  401: 'not_authenticated',
  403: 'permission_denied',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  431: 'headers_too_large',
  503: 'service_unavailable'
}

const FRIENDLY_FORMATS: Record<string, string> = {
  email: 'must be a valid email address',
  'date-time': 'must be an ISO 8601 date-time',
  uri: 'must be an absolute URL'
}

function fieldOf (error: FastifySchemaValidationError, context: string): string {
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.')
  const params = error.params as Record<string, unknown>
  const child = (params.missingProperty ?? params.additionalProperty) as string | undefined
  if (child !== undefined) return path ? `${path}.${child}` : child
  return path || context
}

function messageOf (error: FastifySchemaValidationError): string {
  const params = error.params as Record<string, unknown>
  if (error.keyword === 'additionalProperties') return 'is not an allowed field'
  if (error.keyword === 'required') return 'is required'
  if (error.keyword === 'format' && typeof params.format === 'string' && FRIENDLY_FORMATS[params.format]) {
    return FRIENDLY_FORMATS[params.format]
  }
  return error.message ?? 'is not valid'
}

export function validationErrors (validation: FastifySchemaValidationError[], context: string): FieldError[] {
  const seen = new Set<string>()
  const result: FieldError[] = []
  for (const error of validation) {
    const item = { field: fieldOf(error, context), message: messageOf(error) }
    const key = `${item.field}\0${item.message}`
    if (!seen.has(key)) {
      seen.add(key)
      result.push(item)
    }
  }
  return result
}

interface ProblemBody {
  type: 'about:blank'
  title: string
  status: number
  code: string
  detail: string
  instance: string
  errors?: FieldError[]
}

function sendProblem (reply: FastifyReply, request: FastifyRequest, body: Omit<ProblemBody, 'type' | 'title' | 'instance'>, headers: Record<string, string> = {}) {
  const problem: ProblemBody = {
    type: 'about:blank',
    title: STATUS_CODES[body.status] ?? 'Error',
    status: body.status,
    code: body.code,
    detail: body.detail,
    instance: request.url.split('?')[0],
    ...(body.errors && { errors: body.errors })
  }
  // Sent pre-serialised: the route's response schemas must not filter an error body.
  return reply.code(body.status).headers(headers).type('application/problem+json; charset=utf-8').send(JSON.stringify(problem))
}

/**
 * The `frameworkErrors` server option: Fastify refuses a malformed URL (`/%`) or an over-long path
 * parameter before routing, where neither the error handler nor the onRequest hooks run.
 */
export function frameworkError (error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400
  request.log.info({ err: error }, 'request refused')
  reply.header('x-request-id', request.id)
  return sendProblem(reply, request, { status, code: CODE_BY_STATUS[status] ?? `http_${status}`, detail: error.message })
}

export default fp(async function errorHandler (fastify) {
  fastify.setErrorHandler(function (error: FastifyError, request, reply) {
    if (error instanceof ProblemError) {
      logSecurityEvent(request, error)
      return sendProblem(reply, request, { status: error.statusCode, code: error.code, detail: error.message, errors: error.errors }, error.headers)
    }
    if (error.validation) {
      const errors = validationErrors(error.validation, error.validationContext ?? 'body')
      const detail = errors.map(e => `${e.field} ${e.message}`).join('; ')
      return sendProblem(reply, request, { status: 400, code: 'validation_failed', detail: `The request is not valid: ${detail}.`, errors })
    }
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    if (status < 500) {
      request.log.info({ err: error }, 'request refused')
      const headers: Record<string, string> = status === 401 ? { 'www-authenticate': 'Bearer realm="portcullis"' } : {}
      return sendProblem(reply, request, { status, code: CODE_BY_STATUS[status] ?? `http_${status}`, detail: error.message }, headers)
    }
    if (isDatabaseUnavailable(error)) {
      // PostgreSQL restarting or out of reach: nothing was done, and the same request will work
      // again shortly. A 503 with Retry-After says so; a 500 would say the request itself is at fault.
      request.log.error({ err: error }, 'the database is unavailable')
      return sendProblem(reply, request, {
        status: 503,
        code: 'service_unavailable',
        detail: `The service is briefly unavailable; try again in a moment. Request id ${request.id}.`
      }, { 'retry-after': '1' })
    }
    request.log.error({ err: error }, 'request failed')
    return sendProblem(reply, request, {
      status: 500,
      code: 'internal_error',
      detail: `An unexpected error occurred. Quote request id ${request.id} when reporting it.`
    })
  })

  fastify.setNotFoundHandler(function (request, reply) {
    return sendProblem(reply, request, { status: 404, code: 'not_found', detail: `No route for ${request.method} ${request.url.split('?')[0]}.` })
  })
}, { name: 'error-handler' })
