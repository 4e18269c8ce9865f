// Pino options: JSON logs with request ids, and no secrets (credentials, cookies, tokens) in any line.
import type { FastifyRequest } from 'fastify'

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.current_password',
  '*.new_password',
  '*.refresh',
  '*.access',
  '*.token',
  '*.client_secret'
]

/** Query values that are secrets (one-time tokens, codes) are masked in logged URLs. */
export function redactUrl (url: string): string {
  return url.replace(/([?&](?:token|code|refresh|access_token|state)=)[^&#]*/gi, '$1[redacted]')
}

export function loggerOptions (level: string) {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      req (request: FastifyRequest) {
        return {
          method: request.method,
          url: redactUrl(request.url),
          host: request.host,
          remoteAddress: request.ip,
          userAgent: request.headers['user-agent']
        }
      }
    }
  }
}
