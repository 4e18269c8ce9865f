// GET /health/live and /health/ready: probes for the orchestrator.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '../../src/errors.js'
import { problems } from '../../src/schemas/responses.js'

const Status = Type.Object({
  status: Type.Literal('ok', { description: 'Always `ok` on success.' })
}, { additionalProperties: false })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/live', {
    schema: {
      operationId: 'getLiveness',
      summary: 'The process is up',
      tags: ['health'],
      response: { 200: { ...Status, description: 'The process is up.' } }
    },
    logLevel: 'warn'
  }, async () => ({ status: 'ok' as const }))

  fastify.get('/ready', {
    schema: {
      operationId: 'getReadiness',
      summary: 'The service can answer requests: the database responds',
      tags: ['health'],
      response: { 200: { ...Status, description: 'Ready: the database answers.' }, ...problems([503, '`not_ready`: the database does not answer.']) }
    },
    logLevel: 'warn'
  }, async (request) => {
    try {
      await fastify.repositories.health.ping()
    } catch (err) {
      request.log.error({ err }, 'readiness check failed')
      throw errors.notReady()
    }
    return { status: 'ok' as const }
  })
}

export default route
