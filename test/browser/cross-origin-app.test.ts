// A single-page app on another loopback port logs in and refreshes with the cookie, in headless
// Chromium (Debian's /usr/bin/chromium through playwright-core; no browser is downloaded).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { Browser, Page } from 'playwright-core'
import type { FastifyInstance } from 'fastify'
import { freePort } from '../free-port.js'
import { build, PASSWORD, registerUser } from '../helper.js'
import { browserSkip, launchChromium } from './chromium.js'

interface Teardown { teardown (fn: () => unknown): void }

/** A static page server on its own loopback port: the app's origin. */
async function startPageServer (t: Teardown): Promise<string> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>app</title><p>app</p>')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise(resolve => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Portcullis on another loopback port, its PUBLIC_URL naming that port, allowing the given app origins. */
async function startService (t: Teardown, allowedOrigins: string[], env: Record<string, string> = {}): Promise<{ app: FastifyInstance, base: string }> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const app = await build(t, {}, { env: { PUBLIC_URL: base, ALLOWED_ORIGINS: allowedOrigins.join(','), ...env } })
  await app.listen({ port, host: '127.0.0.1' })
  return { app, base }
}

let browser: Browser | undefined
async function newPage (t: Teardown, url: string): Promise<Page> {
  browser ??= await launchChromium()
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(url)
  return page
}
t.teardown(async () => { await browser?.close() })

interface Call { ok: boolean, status?: number, body?: any, error?: string }

/** What the app's own script would do: fetch with credentials, as a browser does it. */
function call (page: Page, url: string, init: { method?: string, body?: unknown, headers?: Record<string, string> } = {}): Promise<Call> {
  return page.evaluate(async ({ url, init }) => {
    try {
      const res = await fetch(url, {
        method: init.method ?? 'GET',
        credentials: 'include',
        headers: { ...(init.body !== undefined && { 'content-type': 'application/json' }), ...init.headers },
        ...(init.body !== undefined && { body: JSON.stringify(init.body) })
      })
      const text = await res.text()
      return { ok: true, status: res.status, body: text === '' ? undefined : JSON.parse(text) }
    } catch (err) {
      return { ok: false, error: String(err) }
    }
  }, { url, init })
}

const skip = browserSkip

t.test('an app on another loopback port logs in, refreshes with the HttpOnly cookie alone, and logs out', { skip }, async t => {
  const appOrigin = await startPageServer(t)
  const { app, base } = await startService(t, [appOrigin])
  const user = await registerUser(app)
  const page = await newPage(t, appOrigin)

  const login = await call(page, `${base}/api/auth/login`, { method: 'POST', body: { email: user.email, password: PASSWORD } })
  t.equal(login.status, 200, `login through CORS: ${login.status ?? login.error}`)
  t.ok(login.body.access)
  t.equal(await page.evaluate('document.cookie'), '', 'the refresh cookie is HttpOnly: the page cannot read it')

  // No body and no token in the page: only the cookie (SameSite=Strict, Secure, Path=/api/auth)
  // authenticates. 127.0.0.1 on two ports is one site, and Chromium keeps Secure cookies of loopback.
  const refreshed = await call(page, `${base}/api/auth/token/refresh`, { method: 'POST' })
  t.equal(refreshed.status, 200, `refresh by the cookie: ${refreshed.status ?? refreshed.error}`)
  t.ok(refreshed.body.access)
  t.not(refreshed.body.access, login.body.access)

  const me = await call(page, `${base}/api/auth/me`, { headers: { authorization: `Bearer ${refreshed.body.access}` } })
  t.equal(me.status, 200, 'the Authorization header passes the preflight')
  t.equal(me.body.email, user.email)

  const again = await call(page, `${base}/api/auth/token/refresh`, { method: 'POST' })
  t.equal(again.status, 200, 'the rotated cookie was stored and works')

  const logout = await call(page, `${base}/api/auth/logout`, { method: 'POST' })
  t.equal(logout.status, 204)
  const after = await call(page, `${base}/api/auth/token/refresh`, { method: 'POST' })
  t.equal(after.status, 400, 'the cookie is gone: no token at all')
})

t.test('an app on an origin that is not allowed cannot read any answer, nor spend the cookie', { skip }, async t => {
  const allowedOrigin = await startPageServer(t)
  const foreignOrigin = await startPageServer(t)
  const { app, base } = await startService(t, [allowedOrigin], { REFRESH_REUSE_GRACE: '0' })
  const user = await registerUser(app)

  const foreign = await newPage(t, foreignOrigin)
  const login = await call(foreign, `${base}/api/auth/login`, { method: 'POST', body: { email: user.email, password: PASSWORD } })
  t.equal(login.ok, false, 'the preflight fails: no CORS headers for this origin')
  t.match(login.error, /Failed to fetch/)

  // The same browser logged in through the allowed app: the cookie is in its jar. The foreign page
  // is same-site (another loopback port), so the browser sends the cookie along; the CSRF check stops it.
  const allowed = await foreign.context().newPage()
  await allowed.goto(allowedOrigin)
  t.equal((await call(allowed, `${base}/api/auth/login`, { method: 'POST', body: { email: user.email, password: PASSWORD } })).status, 200)
  const current = await call(allowed, `${base}/api/auth/token/refresh`, { method: 'POST' })
  t.equal(current.status, 200)
  const answered: Array<{ method?: string, url?: string, origin?: string, site?: string | string[], status: number }> = []
  app.server.on('request', (req, res) => {
    res.on('finish', () => answered.push({ method: req.method, url: req.url, origin: req.headers.origin, site: req.headers['sec-fetch-site'], status: res.statusCode }))
  })
  // A "simple" request needs no preflight: the browser sends it, cookie included, and only hides the
  // answer (here it even fails the fetch: Cross-Origin-Resource-Policy: same-origin).
  await foreign.evaluate(async (url) => {
    await fetch(url, { method: 'POST', credentials: 'include', mode: 'no-cors' }).catch(() => undefined)
  }, `${base}/api/auth/token/refresh`)
  // Had it been accepted, the token now in the jar would be rotated, and (with no grace window) dead.
  const check = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: current.body.refresh } })
  t.equal(check.statusCode, 200, 'the foreign page\'s request did not spend the cookie')
  t.same(answered.filter(a => a.method === 'POST'), [{ method: 'POST', url: '/api/auth/token/refresh', origin: foreignOrigin, site: 'same-site', status: 403 }], 'it reached the service and was refused')
})
