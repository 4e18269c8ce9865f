// createRevocationFeed against the test kit's feed: polling, the cursor, authorization, outages.
import t from 'tap'
import { basicClientAuthorization, createRevocationFeed, type FeedLogger } from '@portcullis/verify'
import { startIssuer } from '@portcullis/verify/testing'
import { waitUntil as until } from '../../wait-until.js'

function recordingLogger (): FeedLogger & { warnings: string[] } {
  const warnings: string[] = []
  return { warnings, warn: (_obj, msg) => { warnings.push(msg) }, debug () {} }
}

t.test('polls follow the cursor and apply only the new items', async t => {
  const iss = await startIssuer()
  t.teardown(() => iss.close())
  const feed = createRevocationFeed({ url: iss.revocationsUrl })
  const iat = Math.floor(Date.now() / 1000)
  iss.revoke({ sid: 's1' })
  t.equal(await feed.poll(), true)
  t.ok(feed.revocationOf({ sid: 's1', sub: 'u', iat }))
  t.type(feed.lastSuccessAt, 'number')
  iss.revoke({ sid: 's2' })
  const before = iss.requests.revocations
  await feed.poll()
  t.ok(feed.revocationOf({ sid: 's2', sub: 'u', iat }))
  t.equal(iss.requests.revocations - before, 2, 'one page with the news, one that confirms the end')
})

t.test('start() polls on the interval until close()', async t => {
  const iss = await startIssuer()
  t.teardown(() => iss.close())
  const feed = createRevocationFeed({ url: iss.revocationsUrl, intervalMs: 30 })
  await feed.start()
  await feed.start()
  t.equal(iss.requests.revocations, 1, 'a second start() is a no-op')
  iss.revoke({ sub: 'u1', not_before: Math.floor(Date.now() / 1000) + 5 })
  await until(() => feed.revocationOf({ sub: 'u1', iat: Math.floor(Date.now() / 1000) }) !== undefined)
  await feed.close()
  const count = iss.requests.revocations
  await new Promise(resolve => setTimeout(resolve, 100))
  t.equal(iss.requests.revocations, count, 'no polls after close')
})

t.test('a client authenticates with HTTP Basic, its id and secret form-encoded', async t => {
  t.equal(basicClientAuthorization('svc a', 's:e/c'), `Basic ${Buffer.from('svc+a:s%3Ae%2Fc').toString('base64')}`)
  const iss = await startIssuer({ feedAuthorization: basicClientAuthorization('posts', 'secret') })
  t.teardown(() => iss.close())
  const feed = createRevocationFeed({ url: iss.revocationsUrl, client: { id: 'posts', secret: 'secret' } })
  t.equal(await feed.poll(), true)
})

t.test('the Authorization header is sent, and a refusal keeps the last state', async t => {
  const iss = await startIssuer({ feedAuthorization: 'Bearer feed-token' })
  t.teardown(() => iss.close())
  const logger = recordingLogger()
  iss.revoke({ sid: 's1' })
  const good = createRevocationFeed({ url: iss.revocationsUrl, authorization: async () => 'Bearer feed-token' })
  t.equal(await good.poll(), true)
  const bad = createRevocationFeed({ url: iss.revocationsUrl, authorization: () => 'Bearer wrong', logger })
  t.equal(await bad.poll(), false)
  t.match(logger.warnings, [/revocation feed unavailable/])
})

t.test('the feed down: keep serving from the last known state, log, no crash', async t => {
  const iss = await startIssuer()
  t.teardown(() => iss.close())
  const logger = recordingLogger()
  const feed = createRevocationFeed({ url: iss.revocationsUrl, logger, intervalMs: 20 })
  iss.revoke({ sid: 's1' })
  await feed.start()
  t.teardown(() => feed.close())
  const seenAt = feed.lastSuccessAt
  iss.setFeedAvailable(false)
  await until(() => logger.warnings.length >= 2)
  t.ok(feed.revocationOf({ sid: 's1', sub: 'u', iat: Math.floor(Date.now() / 1000) }), 'still revoked')
  t.equal(feed.lastSuccessAt, seenAt)
  iss.setFeedAvailable(true)
  iss.revoke({ sid: 's2' })
  await until(() => feed.revocationOf({ sid: 's2', sub: 'u', iat: Math.floor(Date.now() / 1000) }) !== undefined)
  t.pass('caught up once the feed was back')
})

t.test('a body that is not a feed page, and an unreachable feed, count as failed polls', async t => {
  const iss = await startIssuer()
  const notAFeed = createRevocationFeed({ url: iss.jwksUrl })
  t.equal(await notAFeed.poll(), false)
  await iss.close()
  const gone = createRevocationFeed({ url: iss.revocationsUrl, timeoutMs: 500 })
  t.equal(await gone.poll(), false)
})
