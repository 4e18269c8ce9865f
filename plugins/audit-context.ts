// The audit context of each request: its address, user agent and request id, and its actor once
// authentication has named one; every event the request records carries them.
import fp from 'fastify-plugin'
import { clientInfo } from '../src/http/client-info.js'
import { runWithAuditContext } from '../src/audit/events.js'

export default fp(async function auditContext (fastify) {
  // Callback style on purpose: the rest of the request's lifecycle runs inside `done`, so inside the
  // AsyncLocalStorage scope opened here (the pattern of @fastify/request-context).
  fastify.addHook('onRequest', (request, _reply, done) => {
    const { ip, userAgent } = clientInfo(request)
    runWithAuditContext({ actorType: 'user', actorId: null, ip, userAgent, requestId: request.id }, done)
  })
}, { name: 'audit-context' })
