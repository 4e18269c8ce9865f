import t from 'tap'
import { CheckTimedOut, failedChecks } from '../../src/health/readiness.js'

t.test('no failures when every check answers', async t => {
  t.same(await failedChecks([
    { name: 'database', check: async () => {} },
    { name: 'redis', check: async () => 'PONG' }
  ], 1000), [])
  t.same(await failedChecks([], 1000), [])
})

t.test('a check that throws or rejects is a failure with its error, in the order of the checks', async t => {
  const failed = await failedChecks([
    { name: 'database', check: async () => { throw new Error('ECONNREFUSED') } },
    { name: 'fine', check: async () => {} },
    { name: 'redis', check: () => { throw new Error('thrown before any promise') } }
  ], 1000)
  t.same(failed.map(f => f.name), ['database', 'redis'])
  t.match(failed[0].err, { message: 'ECONNREFUSED' })
  t.match(failed[1].err, { message: 'thrown before any promise' })
})

t.test('a check that never answers fails at the deadline; one that fails after it is not an unhandled rejection', async t => {
  let rejectLate!: (err: Error) => void
  const failed = await failedChecks([
    { name: 'database', check: () => new Promise(() => {}) },
    { name: 'redis', check: () => new Promise((_resolve, reject) => { rejectLate = reject }) }
  ], 50)
  t.same(failed.map(f => f.name), ['database', 'redis'])
  t.ok(failed[0].err instanceof CheckTimedOut)
  t.match(failed[0].err, { name: 'CheckTimedOut', message: 'database did not answer within 50 ms' })
  const unhandled: unknown[] = []
  const onUnhandled = (err: unknown) => unhandled.push(err)
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => { process.off('unhandledRejection', onUnhandled) })
  rejectLate(new Error('too late'))
  await new Promise(resolve => setImmediate(resolve))
  t.same(unhandled, [])
})

t.test('the deadline timer does not outlive a check that answered', async t => {
  const cleared = t.capture(globalThis, 'clearTimeout', clearTimeout)
  await failedChecks([{ name: 'database', check: async () => {} }], 60_000)
  t.equal(cleared().length, 1)
})
