// The breached-password check against a local fake of the Pwned Passwords range API.
import t from 'tap'
import { createBreachedPasswordCheck } from '../../src/passwords/breached.js'
import { fakeRangeApi, rangeAnswer, sha1 } from './fake-range-api.js'

t.test('only five hex digits of the SHA-1 leave the process, and the suffix is matched here', async t => {
  const api = await fakeRangeApi(t, rangeAnswer(['P@ssw0rd!2024']))
  const warnings: string[] = []
  const check = createBreachedPasswordCheck({ url: `${api.url}/`, warn: (_err, message) => warnings.push(message) })
  t.equal(await check('P@ssw0rd!2024'), true, 'listed (lower-case suffix, CRLF lines)')
  t.equal(await check('correct horse battery'), false)
  t.equal(api.requests.length, 2)
  t.equal(api.requests[0].url, `/range/${sha1('P@ssw0rd!2024').slice(0, 5)}`)
  t.match(api.requests[1].url, /^\/range\/[0-9A-F]{5}$/)
  t.equal(api.requests[0].headers['add-padding'], 'true', 'padding asked for')
  t.same(warnings, [])
})

t.test('a suffix listed with count 0 (padding) is not a breach', async t => {
  const password = 'padded entry'
  const api = await fakeRangeApi(t, (_request, response) => response.end(`${sha1(password).slice(5)}:0\n`))
  t.equal(await createBreachedPasswordCheck({ url: api.url, warn: () => {} })(password), false)
})

t.test('fails open with a warning: an error status, a service that is down, one that is too slow', async t => {
  const failing = await fakeRangeApi(t, (_request, response) => { response.statusCode = 503; response.end('down') })
  const warnings: Array<[unknown, string]> = []
  const warn = (err: unknown, message: string) => warnings.push([err, message])
  t.equal(await createBreachedPasswordCheck({ url: failing.url, warn })('anything at all'), false)
  t.match(String(warnings[0][0]), /503/)
  t.match(warnings[0][1], /accepted without it/)

  // A port nothing listens on: connection refused.
  t.equal(await createBreachedPasswordCheck({ url: 'http://127.0.0.1:1', warn })('anything at all'), false)
  t.equal(warnings.length, 2)

  // The server takes the request and never answers: the timeout (short here) gives up.
  const silent = await fakeRangeApi(t, () => {})
  t.equal(await createBreachedPasswordCheck({ url: silent.url, timeoutMs: 50, warn })('anything at all'), false)
  t.equal(warnings.length, 3)
  t.match(String((warnings[2][0] as Error).name), /TimeoutError|AbortError/)
  t.notOk(warnings.some(([err, message]) => `${String(err)} ${message}`.includes('anything at all')), 'never the password')
})
