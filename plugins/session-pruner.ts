// Deletes what is dead (expired and long-revoked sessions and refresh tokens, used or expired one-time
// tokens, revocation events and denylisted client tokens no live token can concern, abandoned social
// logins, used or expired MFA tokens, audit entries past AUDIT_RETENTION) in small batches, in-process (no cron), once per
// PRUNE_INTERVAL across every instance sharing the database; and signs the audit log's checkpoints.
import fp from 'fastify-plugin'
import { nothingPruned, pruneBatch, totalPruned, type PruneCounts } from '../src/maintenance/pruning.js'
import { instanceId } from '../src/runtime/instance-id.js'
import { auditMaintenance } from '../src/audit/chain.js'

const BATCH_SIZE = 500
/** A run deletes batches while they come back full, at most this many: one run per interval must keep up with a cluster. */
const MAX_BATCHES_PER_RUN = 20
/**
 * The timer asks for the claim this often per interval: the claim, not the timer, spaces the runs
 * (a whole interval apart however many instances ask), and a run starts at most a quarter interval
 * late. Asking once per interval would skip whole intervals whenever a tick came a millisecond early
 * relative to the last claim.
 */
const CHECKS_PER_INTERVAL = 4

export default fp(async function sessionPruner (fastify) {
  const seconds = fastify.config.pruneIntervalSeconds
  if (seconds === 0) return
  const intervalMs = seconds * 1000
  const deps = fastify.auth

  async function run (): Promise<PruneCounts | undefined> {
    if (!await deps.repositories.backgroundJobs.claim('prune', intervalMs, deps.now(), instanceId)) return undefined
    const total = nothingPruned()
    // Small batches, each its own short statement: other writers get the lock between them.
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
      const counts = await pruneBatch(deps, BATCH_SIZE)
      for (const key of Object.keys(total) as Array<keyof PruneCounts>) total[key] += counts[key]
      if (!Object.values(counts).some(count => count >= BATCH_SIZE)) break
    }
    // The audit log past AUDIT_RETENTION, with the checkpoints that keep it verifiable.
    await auditMaintenance(deps, BATCH_SIZE, MAX_BATCHES_PER_RUN)
    return total
  }

  let running: Promise<void> | undefined
  const timer = setInterval(() => {
    running ??= run()
      .then(counts => {
        if (counts !== undefined && totalPruned(counts) > 0) fastify.log.debug(counts, 'pruned dead sessions, tokens, revocations and social login states')
      })
      .catch(err => fastify.log.error({ err }, 'pruning failed'))
      .finally(() => { running = undefined })
  }, intervalMs / CHECKS_PER_INTERVAL)
  timer.unref()
  fastify.addHook('onClose', async () => {
    clearInterval(timer)
    // The database closes after this hook: a run under way finishes first.
    await running
  })
}, { name: 'session-pruner', dependencies: ['auth'] })
