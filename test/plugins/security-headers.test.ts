// Security headers on every answer (helmet), the Swagger UI's own policy, and no-store/no-referrer for URLs carrying a secret.
import t from 'tap'
import { build } from '../helper.js'

t.test('an API answer is nosniff, unframeable, loads nothing, sends no Referer; no HSTS on an http PUBLIC_URL', async t => {
  const app = await build(t)
  for (const res of [await app.inject({ url: '/health/live' }), await app.inject({ url: '/api/auth/me' }), await app.inject({ url: '/no/such/path' })]) {
    t.equal(res.headers['x-content-type-options'], 'nosniff', `${res.statusCode}`)
    t.equal(res.headers['x-frame-options'], 'DENY')
    t.equal(res.headers['content-security-policy'], "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'")
    t.equal(res.headers['referrer-policy'], 'no-referrer')
    t.equal(res.headers['cross-origin-resource-policy'], 'same-origin')
    t.equal(res.headers['cross-origin-opener-policy'], 'same-origin')
    t.notOk(res.headers['strict-transport-security'], 'http: browsers would ignore it')
  }
})

t.test('HSTS when PUBLIC_URL is https, without includeSubDomains', async t => {
  const app = await build(t, { publicUrl: 'https://auth.example.com' })
  const res = await app.inject({ url: '/health/live' })
  t.equal(res.headers['strict-transport-security'], 'max-age=31536000')
})

t.test('the Swagger UI pages get a policy that lets them run; the document keeps the API\'s', async t => {
  const app = await build(t)
  const page = await app.inject({ url: '/docs' })
  t.equal(page.statusCode, 200)
  const csp = page.headers['content-security-policy'] as string
  t.match(csp, /script-src 'self'(;|$)/, 'scripts from here only, none inline')
  t.match(csp, /connect-src 'self' http:\/\/portcullis\.test/, '"Try it out" may call the public address')
  t.match(csp, /frame-ancestors 'none'/)
  t.match(csp, /object-src 'none'/)
  t.equal(page.headers['x-content-type-options'], 'nosniff')
  const script = await app.inject({ url: '/docs/static/swagger-initializer.js' })
  t.equal(script.statusCode, 200)
  t.equal(script.headers['content-security-policy'], csp)
  const document = await app.inject({ url: '/docs/json' })
  t.equal(document.headers['content-security-policy'], "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'")
})

t.test('every answer to a URL carrying a token, a code or a state is no-store and no-referrer, refusals included', async t => {
  const app = await build(t)
  const urls = [
    '/api/auth/verify-email?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    '/api/auth/verify-email?token=x',
    '/api/auth/password/reset/confirm?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    '/api/auth/social/google/callback?code=abc&state=def',
    '/api/auth/no-such-route?token=abc'
  ]
  for (const url of urls) {
    const res = await app.inject({ url })
    t.ok(res.statusCode >= 400, `${url}: ${res.statusCode}`)
    t.equal(res.headers['cache-control'], 'no-store', url)
    t.equal(res.headers['referrer-policy'], 'no-referrer', url)
  }
  const jwks = await app.inject({ url: '/.well-known/jwks.json' })
  t.match(jwks.headers['cache-control'], /^public/, 'a URL without a secret keeps its own caching')
})
