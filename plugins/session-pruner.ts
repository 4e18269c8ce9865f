// Deletes expired and long-revoked sessions and refresh tokens in small batches, in-process (no cron).
import fp from 'fastify-plugin'
import { pruneSessions } from '../src/sessions.js'

const BATCH_SIZE = 500

export default fp(async function sessionPruner (fastify) {
  const seconds = fastify.config.pruneIntervalSeconds
  if (seconds === 0) return
  let running = false
  const timer = setInterval(() => {
    if (running) return
    running = true
    // Small batches keep each synchronous SQLite delete short; a backlog drains over several ticks.
    pruneSessions(fastify.auth, BATCH_SIZE)
      .then(deleted => { if (deleted > 0) fastify.log.debug({ deleted }, 'pruned dead sessions and refresh tokens') })
      .catch(err => fastify.log.error({ err }, 'pruning sessions failed'))
      .finally(() => { running = false })
  }, seconds * 1000)
  timer.unref()
  fastify.addHook('onClose', async () => clearInterval(timer))
}, { name: 'session-pruner', dependencies: ['auth'] })
