// createRevocationFeed against the test kit's feed: polling, the cursor, authorization, outages.
import t from 'tap'
import { basicClientAuthorization, createRevocationFeed, FeedConfigurationError, verifyAccessToken, VerifierUnavailableError, type FeedLogger } from '@portcullis/verify'
import { pollDelay } from '../../../packages/verify/src/revocation-feed.js'
import { startIssuer } from '@portcullis/verify/testing'
import { waitUntil as until } from '../../wait-until.js'

function recordingLogger (): FeedLogger & { warnings: string[] } {
  const warnings: string[] = []
  return { warnings, warn: (_obj, msg) => { warnings.push(msg) }, debug () {} }
}

function loggerWithErrors (): FeedLogger & { warnings: string[], errors: string[] } {
  const warnings: string[] = []
  const errors: string[] = []
  return { warnings, errors, warn: (_obj, msg) => { warnings.push(msg) }, error: (_obj, msg) => { errors.push(msg) }, debug () {} }
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

t.test('poll() while a poll is in flight reads again once that one is done: a revocation made meanwhile is seen', async t => {
  const iss = await startIssuer()
  t.teardown(() => iss.close())
  let release = () => {}
  const held = new Promise<void>(resolve => { release = resolve })
  let answered = false
  let calls = 0
  // The first read has its answer from the issuer, but is held before the feed takes it.
  const feed = createRevocationFeed({
    url: iss.revocationsUrl,
    fetch: async (input, init) => {
      const res = await fetch(input, init)
      if (calls++ === 0) {
        answered = true
        await held
      }
      return res
    }
  })
  const iat = Math.floor(Date.now() / 1000)
  const first = feed.poll()
  await until(() => answered, 10_000, 'the first read to be answered', t)
  iss.revoke({ sid: 's1' })
  const second = feed.poll()
  release()
  t.equal(await first, true)
  t.equal(await second, true)
  t.ok(feed.revocationOf({ sid: 's1', sub: 'u', iat }), 'the poll asked for after the revocation saw it')
  t.equal(calls, 3, 'the read in flight; after it, a page with the revocation and one that confirms the end')
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
  t.match(logger.warnings, [/refused the credentials: a configuration error/], 'a logger without error() gets it as a warning')
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

t.test('pollDelay: the interval with a little jitter; failures double it up to the cap, jittered; refused credentials wait the cap', async t => {
  const base = { intervalMs: 1000, maxBackoffMs: 60_000, misconfigured: false }
  t.equal(pollDelay({ ...base, failures: 0 }, 0), 900)
  t.equal(pollDelay({ ...base, failures: 0 }, 0.999999) < 1100, true)
  t.equal(pollDelay({ ...base, failures: 1 }, 0), 1000, 'half of twice the interval')
  t.equal(pollDelay({ ...base, failures: 1 }, 0.999999) < 2000, true)
  t.equal(pollDelay({ ...base, failures: 3 }, 0), 4000)
  t.equal(pollDelay({ ...base, failures: 20 }, 0), 30_000, 'capped at maxBackoffMs')
  t.equal(pollDelay({ ...base, failures: 1, misconfigured: true }, 0), 30_000, 'a configuration error is not retried like an outage')
  const spread = new Set(Array.from({ length: 20 }, () => pollDelay({ ...base, failures: 4 })))
  t.ok(spread.size > 1, 'jittered')
})

t.test('401 or 403 is a configuration error: an error log, onError, lastError, and no outage retries', async t => {
  for (const status of [401, 403]) {
    const refusing = await startIssuer()
    const down = await startIssuer()
    t.teardown(() => Promise.all([refusing.close(), down.close()]))
    refusing.setFeedAnswer(status)
    down.setFeedAvailable(false)
    const logger = loggerWithErrors()
    const seen: Error[] = []
    const misconfigured = createRevocationFeed({ url: refusing.revocationsUrl, logger, intervalMs: 10, maxBackoffMs: 60_000, onError: err => seen.push(err) })
    const outage = createRevocationFeed({ url: down.revocationsUrl, intervalMs: 10, maxBackoffMs: 40 })
    await Promise.all([misconfigured.start(), outage.start()])
    t.teardown(() => Promise.all([misconfigured.close(), outage.close()]))
    t.type(misconfigured.lastError, FeedConfigurationError, `${status}`)
    t.equal((misconfigured.lastError as FeedConfigurationError).status, status)
    t.match(seen, [{ name: 'FeedConfigurationError', status }])
    t.match(logger.errors, [/refused the credentials: a configuration error/])
    t.same(logger.warnings, [], 'not reported as an outage')
    await until(() => down.requests.revocations >= 5)
    t.equal(refusing.requests.revocations, 1, 'the outage was retried several times meanwhile; the refusal was not')
    t.notOk(outage.lastError instanceof FeedConfigurationError, 'a 503 is an outage')
  }
})

t.test('maxStalenessMs, fail-closed (the default): stale revocations refuse every token as unavailable until the feed is read again', async t => {
  const iss = await startIssuer()
  t.teardown(() => iss.close())
  const logger = loggerWithErrors()
  // Long enough for the first verification to come before it on a loaded machine; the test waits it out.
  const feed = createRevocationFeed({ url: iss.revocationsUrl, logger, maxStalenessMs: 3000 })
  const options = { issuer: iss.issuer, audience: iss.audience, revocations: feed }
  const token = await iss.mint()
  t.equal(await feed.poll(), true)
  t.ok(await verifyAccessToken(token, options), 'fresh')
  iss.setFeedAvailable(false)
  await until(() => feed.stale)
  await t.rejects(verifyAccessToken(token, options), VerifierUnavailableError, 'stale: refused as unavailable (503), not invalid (401)')
  t.throws(() => feed.revocationOf({ sub: 'u', iat: Math.floor(Date.now() / 1000) }), VerifierUnavailableError)
  t.equal(await feed.poll(), false)
  t.match(logger.errors, [/stale beyond maxStalenessMs; refusing tokens \(fail-closed\)/])
  iss.setFeedAvailable(true)
  t.equal(await feed.poll(), true)
  t.equal(feed.stale, false)
  t.ok(await verifyAccessToken(token, options), 'read again: tokens pass')
})

t.test('maxStalenessMs, fail-open: stale revocations still apply, tokens pass, each failed poll logs an error', async t => {
  const iss = await startIssuer()
  t.teardown(() => iss.close())
  const logger = loggerWithErrors()
  const feed = createRevocationFeed({ url: iss.revocationsUrl, logger, maxStalenessMs: 50, staleness: 'fail-open' })
  iss.revoke({ sid: 'gone' })
  t.equal(await feed.poll(), true)
  iss.setFeedAvailable(false)
  await until(() => feed.stale)
  const options = { issuer: iss.issuer, audience: iss.audience, revocations: feed }
  t.ok(await verifyAccessToken(await iss.mint(), options), 'accepted')
  await t.rejects(verifyAccessToken(await iss.mint({ sid: 'gone' }), options), { name: 'TokenInvalidError' }, 'the known revocations still apply')
  t.equal(await feed.poll(), false)
  t.match(logger.errors, [/stale beyond maxStalenessMs; still accepting tokens \(fail-open\)/])
})

t.test('never read at all: staleness counts from the feed\'s creation', async t => {
  const iss = await startIssuer()
  t.teardown(() => iss.close())
  iss.setFeedAvailable(false)
  const feed = createRevocationFeed({ url: iss.revocationsUrl, maxStalenessMs: 50 })
  t.equal(await feed.poll(), false)
  await until(() => feed.stale)
  t.throws(() => feed.revocationOf({ sub: 'u', iat: Math.floor(Date.now() / 1000) }), VerifierUnavailableError)
})

t.test('400 invalid_cursor (the feed never issued our cursor, e.g. a restored database): read it all again', async t => {
  const iss = await startIssuer()
  t.teardown(() => iss.close())
  const logger = recordingLogger()
  const feed = createRevocationFeed({ url: iss.revocationsUrl, logger })
  const iat = Math.floor(Date.now() / 1000)
  iss.revoke({ sid: 's1' })
  iss.revoke({ sid: 's2' })
  iss.revoke({ sid: 's3' })
  t.equal(await feed.poll(), true)
  iss.truncateFeed(1)
  iss.revoke({ sid: 'after-restore' })
  t.equal(await feed.poll(), true, 'the poll resets and succeeds')
  t.ok(feed.revocationOf({ sid: 'after-restore', sub: 'u', iat }), 'a revocation recorded after the restore is seen')
  t.ok(feed.revocationOf({ sid: 's3', sub: 'u', iat }), 'what was known stays known')
  t.match(logger.warnings, [/never issued our cursor/])
  iss.revoke({ sid: 'later' })
  t.equal(await feed.poll(), true)
  t.ok(feed.revocationOf({ sid: 'later', sub: 'u', iat }), 'and it follows the feed from there')
})

t.test('a {jti} item revokes that client token only', async t => {
  const iss = await startIssuer()
  t.teardown(() => iss.close())
  const feed = createRevocationFeed({ url: iss.revocationsUrl })
  const options = { issuer: iss.issuer, audience: iss.audience, revocations: feed }
  const revoked = await iss.mintClientToken('billing', [])
  const other = await iss.mintClientToken('billing', [])
  iss.revoke({ jti: JSON.parse(Buffer.from(revoked.split('.')[1], 'base64url').toString()).jti })
  t.equal(await feed.poll(), true)
  await t.rejects(verifyAccessToken(revoked, options), { name: 'TokenInvalidError', reason: /token was revoked/ })
  t.ok(await verifyAccessToken(other, options))
})
