// Request bodies are UTF-8: a body declared in another charset is refused, not misread as UTF-8.
import { parse } from 'content-type'
import type { FastifyReply, FastifyRequest, RequestPayload } from 'fastify'
import { ProblemError } from '../errors.js'

/** The charset a Content-Type header declares, lower-cased; `undefined` when it declares none (or cannot be parsed: the parsers refuse that). */
export function declaredCharset (header: string): string | undefined {
  try {
    return parse(header).parameters.charset?.toLowerCase()
  } catch {
    return undefined
  }
}

function hasBody (request: FastifyRequest): boolean {
  const length = request.headers['content-length']
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/**
 * A preParsing hook: JSON (RFC 8259 §8.1) and our form bodies are UTF-8; `utf-16`, `latin1` and the
 * like would be parsed as UTF-8 and mean something else than the client wrote, so they are a 415.
 */
export function utf8BodiesOnly (request: FastifyRequest, _reply: FastifyReply, payload: RequestPayload, done: (err: Error | null, payload?: RequestPayload) => void): void {
  const header = request.headers['content-type']
  if (header !== undefined && hasBody(request)) {
    const charset = declaredCharset(header)
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      done(new ProblemError(415, 'unsupported_media_type', `Request bodies must be UTF-8; the charset "${charset}" is not supported.`))
      return
    }
  }
  done(null, payload)
}
