// Deletes what is dead (expired and long-revoked sessions and refresh tokens, used or expired one-time
// tokens, revocation events and denylisted client tokens no live token can concern, abandoned social
// logins) in small batches, in-process (no cron).
import fp from 'fastify-plugin'
import { pruneBatch, totalPruned } from '../src/maintenance/pruning.js'

const BATCH_SIZE = 500

export default fp(async function sessionPruner (fastify) {
  const seconds = fastify.config.pruneIntervalSeconds
  if (seconds === 0) return
  let running = false
  const timer = setInterval(() => {
    if (running) return
    running = true
    // One batch of each per tick: a backlog drains over several ticks without holding the lock long.
    pruneBatch(fastify.auth, BATCH_SIZE)
      .then(counts => {
        if (totalPruned(counts) > 0) fastify.log.debug(counts, 'pruned dead sessions, tokens, revocations and social login states')
      })
      .catch(err => fastify.log.error({ err }, 'pruning failed'))
      .finally(() => { running = false })
  }, seconds * 1000)
  timer.unref()
  fastify.addHook('onClose', async () => clearInterval(timer))
}, { name: 'session-pruner', dependencies: ['auth'] })
