// Work that must not hold up the response (mails, lookups whose timing would reveal an account):
// run after the reply, errors logged, and drained before the mailer and the database close.
import fp from 'fastify-plugin'
import { settleWithin } from '../src/runtime/settle-within.js'

export interface BackgroundTasks {
  run (name: string, task: () => Promise<unknown>): void
  /** Waits for every running task, at most `timeoutMs`. */
  drain (timeoutMs?: number): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    background: BackgroundTasks
  }
}

export default fp(async function background (fastify) {
  const running = new Set<Promise<unknown>>()
  fastify.decorate('background', {
    run (name, task) {
      const job = new Promise<void>(resolve => setImmediate(resolve))
        .then(task)
        .catch(err => fastify.log.error({ err, task: name }, 'background task failed'))
      running.add(job)
      job.finally(() => running.delete(job)).catch(() => {})
    },
    async drain (timeoutMs = 10_000) {
      await settleWithin(running, timeoutMs)
    }
  } satisfies BackgroundTasks)
}, { name: 'background' })
