// CORS from ALLOWED_ORIGINS: exact origins with credentials; anything else gets no CORS header at all.
import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { build, loginUser } from '../helper.js'

const APP = 'https://app.example.com'

function corsHeadersOf (res: LightMyRequestResponse): string[] {
  return Object.keys(res.headers).filter(name => name.startsWith('access-control-'))
}

function preflight (origin: string | undefined, url = '/api/auth/token/refresh') {
  return {
    method: 'OPTIONS' as const,
    url,
    headers: {
      ...(origin !== undefined && { origin }),
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type'
    }
  }
}

t.test('a preflight from an allowed origin is answered 204 with that exact origin, credentials and the API\'s methods and headers', async t => {
  const app = await build(t, { allowedOrigins: [APP] })
  for (const url of ['/api/auth/token/refresh', '/api/auth/login', '/api/auth/me', '/api/auth/sessions/abc']) {
    const res = await app.inject(preflight(APP, url))
    t.equal(res.statusCode, 204, url)
    t.equal(res.headers['access-control-allow-origin'], APP)
    t.equal(res.headers['access-control-allow-credentials'], 'true')
    t.match(res.headers['access-control-allow-methods'], /POST/)
    t.match(res.headers['access-control-allow-methods'], /DELETE/)
    t.match(res.headers['access-control-allow-headers'], /Content-Type/)
    t.match(res.headers['access-control-allow-headers'], /Authorization/)
    t.equal(res.headers['access-control-max-age'], '600')
    t.match(res.headers.vary, /Origin/)
  }
})

t.test('an answer to an allowed origin names it, allows credentials and exposes the useful headers, errors included', async t => {
  const app = await build(t, { allowedOrigins: [APP] })
  const user = await loginUser(app)
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', headers: { origin: APP }, payload: { email: user.email, password: user.password } })
  t.equal(login.statusCode, 200)
  t.equal(login.headers['access-control-allow-origin'], APP)
  t.equal(login.headers['access-control-allow-credentials'], 'true')
  t.match(login.headers['access-control-expose-headers'], /Retry-After/)
  t.match(login.headers['access-control-expose-headers'], /WWW-Authenticate/)
  const denied = await app.inject({ url: '/api/auth/me', headers: { origin: APP } })
  t.equal(denied.statusCode, 401)
  t.equal(denied.headers['access-control-allow-origin'], APP, 'the app can read why it was refused')
})

t.test('a foreign, null or look-alike origin gets no CORS header at all; its preflight is a 404', async t => {
  const app = await build(t, { allowedOrigins: [APP] })
  const hostile = [
    'https://evil.example',
    'null',
    'https://app.example.com.evil.example',
    'https://evilapp.example.com',
    'https://sub.app.example.com',
    'http://app.example.com',
    'https://app.example.com:8443',
    'https://app.example.com/',
    'https://APP.example.com',
    '*',
    ''
  ]
  for (const origin of hostile) {
    const pre = await app.inject(preflight(origin))
    t.equal(pre.statusCode, 404, `preflight from "${origin}"`)
    t.same(corsHeadersOf(pre), [], `no CORS header for the preflight from "${origin}"`)
    const res = await app.inject({ url: '/health/live', headers: { origin } })
    t.equal(res.statusCode, 200)
    t.same(corsHeadersOf(res), [], `no CORS header for "${origin}"`)
  }
  t.same(corsHeadersOf(await app.inject({ url: '/health/live' })), [], 'nor without Origin')
  t.same(corsHeadersOf(await app.inject(preflight(undefined))), [], 'nor for a preflight without Origin')
})

t.test('with no ALLOWED_ORIGINS only the service\'s own origin is allowed, and never as *', async t => {
  const app = await build(t)
  t.same(corsHeadersOf(await app.inject(preflight(APP))), [])
  const own = await app.inject(preflight('http://portcullis.test'))
  t.equal(own.statusCode, 204)
  t.equal(own.headers['access-control-allow-origin'], 'http://portcullis.test')
})

t.test('an origin that parses to null (file:) in ALLOWED_ORIGINS never lets Origin: null in', async t => {
  const app = await build(t, { allowedOrigins: ['null', APP] })
  t.same(corsHeadersOf(await app.inject(preflight('null'))), [])
  const user = await loginUser(app)
  const res = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', cookies: { refresh_token: user.refresh }, headers: { origin: 'null' } })
  t.equal(res.statusCode, 403, 'nor spend the refresh cookie')
  t.equal(res.json().code, 'csrf_failed')
})
