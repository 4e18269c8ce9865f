// http/: small request helpers shared by routes (client info, optional bodies, integer query parameters).
// What a request tells about its client, as recorded on sessions.
import type { FastifyRequest } from 'fastify'
import type { ClientInfo } from '../deps.js'

const MAX_USER_AGENT = 512

export function clientInfo (request: FastifyRequest): ClientInfo {
  const userAgent = request.headers['user-agent']
  return {
    ip: request.ip ?? null,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, MAX_USER_AGENT) : null
  }
}
