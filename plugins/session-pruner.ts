// Deletes expired and long-revoked sessions, refresh tokens and used or expired one-time tokens in
// small batches, in-process (no cron).
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
    Promise.all([
      pruneSessions(fastify.auth, BATCH_SIZE),
      fastify.repositories.oneTimeTokens.prune(fastify.auth.now(), BATCH_SIZE)
    ])
      .then(([sessions, oneTimeTokens]) => {
        if (sessions + oneTimeTokens > 0) fastify.log.debug({ sessions, oneTimeTokens }, 'pruned dead sessions, refresh tokens and one-time tokens')
      })
      .catch(err => fastify.log.error({ err }, 'pruning sessions failed'))
      .finally(() => { running = false })
  }, seconds * 1000)
  timer.unref()
  fastify.addHook('onClose', async () => clearInterval(timer))
}, { name: 'session-pruner', dependencies: ['auth'] })
