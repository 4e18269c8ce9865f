// GET /health/live and /health/ready: probes for the orchestrator.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '../../src/errors.js'
import { failedChecks, type ReadinessCheck } from '../../src/health/readiness.js'
import { problems } from '../../src/schemas/responses.js'

/** How long each store may take to answer a readiness probe. */
export const READINESS_TIMEOUT_MS = 2000

const Status = Type.Object({
  status: Type.Literal('ok', { description: 'Always `ok` on success.' })
}, { additionalProperties: false })

const DETAILS: Record<string, string> = {
  database: 'The database does not answer.',
  redis: 'Redis does not answer.',
  'database,redis': 'The database and Redis do not answer.'
}

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
      summary: 'The service can answer requests: the database responds, and Redis when configured',
      description: 'Asks the database and, when `REDIS_URL` is set, Redis (`PING`); each must answer within ' +
        `${READINESS_TIMEOUT_MS / 1000} seconds. While Redis is down the other endpoints keep answering ` +
        '(their limits count elsewhere), but this probe is 503 so the outage is seen.',
      tags: ['health'],
      response: {
        200: { ...Status, description: 'Ready: the database answers, and Redis when configured.' },
        ...problems([503, '`not_ready`: the database, or the configured Redis, does not answer in time.'])
      }
    },
    logLevel: 'warn'
  }, async (request) => {
    const checks: ReadinessCheck[] = [{ name: 'database', check: () => fastify.repositories.health.ping() }]
    const { redis } = fastify
    if (redis !== null) checks.push({ name: 'redis', check: () => redis.ping() })
    const failed = await failedChecks(checks, READINESS_TIMEOUT_MS)
    if (failed.length > 0) {
      for (const { name, err } of failed) request.log.error({ err, store: name }, 'readiness check failed')
      // The answer names which store, never its address or its error.
      throw errors.notReady(DETAILS[failed.map(f => f.name).join(',')])
    }
    return { status: 'ok' as const }
  })
}

export default route
