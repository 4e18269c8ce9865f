// Swagger UI in a real browser (Debian's chromium through playwright-core; nothing is downloaded):
// "Try it out" reaches the server at the address the docs were opened at, with the token given to
// "Authorize", and a refresh from the UI uses the browser's cookie.
import t from 'tap'
import type { Locator, Page } from 'playwright-core'
import { browserSkip, launchChromium } from '../browser/chromium.js'
import { freePort } from '../free-port.js'
import { PASSWORD } from '../helper.js'
import { startServer } from '../portcullis-process.js'

async function post (url: string, body: unknown) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() as Record<string, any> }
}

/** Expands an operation, presses "Try it out" and "Execute", and returns the status and body it shows. */
async function tryItOut (page: Page, operationId: string, tag: string, before?: (operation: Locator) => Promise<void>) {
  const operation = page.locator(`#operations-${tag}-${operationId}`)
  await operation.locator('.opblock-summary').first().click()
  await operation.locator('button.try-out__btn').click()
  await before?.(operation)
  await operation.locator('button.execute').click()
  const response = operation.locator('.live-responses-table .response').first()
  const status = (await response.locator('.response-col_status').innerText()).trim()
  const body = await response.locator('.response-col_description .highlight-code pre').first().innerText()
  return { status, body }
}

t.test('Swagger UI: Authorize with an access token, then GET /api/auth/me and a cookie refresh from the UI', {
  skip: browserSkip
}, async t => {
  // A known port: the default PUBLIC_URL (http://localhost:<port>) is then the origin the refresh
  // cookie is allowed from, while the docs are opened at 127.0.0.1 as the server logs it.
  const port = await freePort()
  const server = await startServer(t, { PORT: String(port), COOKIE_SECURE: 'false' })
  t.equal(server.url, `http://127.0.0.1:${port}`)
  // Ada is the user of the documented examples: the login example logs her in.
  t.equal((await post(`${server.url}/api/auth/register`, { email: 'ada@example.com', username: 'ada', password: PASSWORD })).status, 201)
  const login = await post(`${server.url}/api/auth/login`, { email: 'ada@example.com', password: PASSWORD })
  t.equal(login.status, 200)

  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const context = await browser.newContext()
  const page = await context.newPage()
  // No deadline of our own: a busy machine is slow, and the test's own timeout bounds it.
  page.setDefaultTimeout(0)
  const pageErrors: string[] = []
  page.on('pageerror', err => pageErrors.push(err.message))
  page.on('console', message => { if (message.type() === 'error') pageErrors.push(message.text()) })

  await t.test('at 127.0.0.1, as logged: Authorize, then getMe', async t => {
    await page.goto(`${server.url}/docs`)
    await page.locator('.swagger-ui .information-container .title').waitFor()
    await page.locator('.scheme-container button.authorize').click()
    const bearer = page.locator('.auth-container', { hasText: 'bearerAuth' })
    await bearer.locator('input').fill(login.body.access)
    await bearer.locator('button.authorize').click()
    await bearer.locator('button.btn-done').click()

    const { status, body } = await tryItOut(page, 'getMe', 'account')
    t.equal(status, '200', 'Try it out reached the server (no CORS failure) with the token')
    t.match(JSON.parse(body), { email: 'ada@example.com', username: 'ada' }, 'the user is shown')
    t.same(pageErrors.filter(error => /Content Security Policy|Refused to/i.test(error)), [], 'no CSP refusals')
  })

  await t.test('at the PUBLIC_URL origin: log in from the UI, then refresh with the pre-filled body', async t => {
    await page.goto(`http://localhost:${port}/docs`)
    await page.locator('.swagger-ui .information-container .title').waitFor()
    const logged = await tryItOut(page, 'login', 'auth')
    t.equal(logged.status, '200', 'the login example logs Ada in and sets the refresh cookie')
    const cookies = await context.cookies(`http://localhost:${port}/api/auth/token/refresh`)
    t.ok(cookies.some(cookie => cookie.name === 'refresh_token' && cookie.httpOnly), 'the browser holds the HttpOnly cookie')

    const refreshed = await tryItOut(page, 'refreshToken', 'auth', async operation => {
      t.equal((await operation.locator('textarea.body-param__text').inputValue()).replace(/\s/g, ''), '{}', 'the pre-filled body is {}')
    })
    t.equal(refreshed.status, '200', 'the refresh used the cookie, not a sample token')
    t.match(JSON.parse(refreshed.body), { token_type: 'Bearer', access: String })
  })
})
