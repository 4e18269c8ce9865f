// Deletes expired and long-revoked sessions, refresh tokens, used or expired one-time tokens, and
// revocation events and denylisted client tokens no live token can concern, in small batches,
// in-process (no cron).
import fp from 'fastify-plugin'
import { pruneRevocations } from '../src/revocation-feed.js'
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
      fastify.repositories.oneTimeTokens.prune(fastify.auth.now(), BATCH_SIZE),
      pruneRevocations(fastify.auth, BATCH_SIZE)
    ])
      .then(([sessions, oneTimeTokens, revocations]) => {
        if (sessions + oneTimeTokens + revocations > 0) fastify.log.debug({ sessions, oneTimeTokens, revocations }, 'pruned dead sessions, refresh tokens, one-time tokens and old revocations')
      })
      .catch(err => fastify.log.error({ err }, 'pruning sessions failed'))
      .finally(() => { running = false })
  }, seconds * 1000)
  timer.unref()
  fastify.addHook('onClose', async () => clearInterval(timer))
}, { name: 'session-pruner', dependencies: ['auth'] })
