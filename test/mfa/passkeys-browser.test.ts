// A real browser registers a passkey and logs in with it, passwordless: headless Chromium (Debian's
// /usr/bin/chromium through playwright-core; nothing is downloaded) with a CDP virtual authenticator.
import t from 'tap'
import { browserSkip, launchChromium } from '../browser/chromium.js'
import { freePort } from '../free-port.js'
import { build, PASSWORD, registerUser } from '../helper.js'
import { claimsOf } from './mfa-helper.js'

// What a front end does, without a library: base64url ⇄ bytes around navigator.credentials.
const PAGE = `<!doctype html><meta charset="utf-8"><title>passkeys</title>
<script>
const toBytes = s => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4)), c => c.charCodeAt(0))
const toB64 = buffer => btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '')
async function api (path, body, access) {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', ...(access && { authorization: 'Bearer ' + access }) }, body: JSON.stringify(body ?? {}) })
  const text = await res.text()
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
}
window.registerPasskey = async (email, password) => {
  const login = await api('/api/auth/login', { email, password })
  if (login.status !== 200) return { step: 'login', ...login }
  const access = login.body.access
  const options = await api('/api/auth/passkeys/options', undefined, access)
  if (options.status !== 200) return { step: 'options', ...options }
  const o = options.body
  const created = await navigator.credentials.create({ publicKey: {
    ...o,
    challenge: toBytes(o.challenge),
    user: { ...o.user, id: toBytes(o.user.id) },
    excludeCredentials: (o.excludeCredentials ?? []).map(c => ({ ...c, id: toBytes(c.id) }))
  } })
  const credential = {
    id: created.id,
    rawId: toB64(created.rawId),
    type: created.type,
    response: {
      clientDataJSON: toB64(created.response.clientDataJSON),
      attestationObject: toB64(created.response.attestationObject),
      transports: created.response.getTransports()
    },
    authenticatorAttachment: created.authenticatorAttachment ?? undefined,
    clientExtensionResults: created.getClientExtensionResults()
  }
  return { step: 'register', ...(await api('/api/auth/passkeys', { credential, name: 'Virtual' }, access)) }
}
window.passwordless = async () => {
  const options = await api('/api/auth/passkeys/login/options', {})
  if (options.status !== 200) return { step: 'options', ...options }
  const o = options.body
  const got = await navigator.credentials.get({ publicKey: { ...o, challenge: toBytes(o.challenge), allowCredentials: [] } })
  const credential = {
    id: got.id,
    rawId: toB64(got.rawId),
    type: got.type,
    response: {
      clientDataJSON: toB64(got.response.clientDataJSON),
      authenticatorData: toB64(got.response.authenticatorData),
      signature: toB64(got.response.signature),
      ...(got.response.userHandle && { userHandle: toB64(got.response.userHandle) })
    },
    authenticatorAttachment: got.authenticatorAttachment ?? undefined,
    clientExtensionResults: got.getClientExtensionResults()
  }
  return { step: 'login', allowCredentials: o.allowCredentials, ...(await api('/api/auth/passkeys/login', { credential })) }
}
</script><p>passkeys</p>`

t.test('Chromium with a virtual authenticator registers a passkey, then logs in with it alone', { skip: browserSkip }, async t => {
  // WebAuthn needs a secure context: http://localhost is one. The page is served on the app's own origin.
  const port = await freePort()
  const origin = `http://localhost:${port}`
  const app = await build(t, {}, { env: { PUBLIC_URL: origin } })
  await app.listen({ port, host: 'localhost' })
  const user = await registerUser(app)

  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.route(`${origin}/passkeys-test`, route => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: PAGE }))
  const cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true }
  })
  await page.goto(`${origin}/passkeys-test`)
  t.equal(await page.evaluate(() => (globalThis as any).isSecureContext), true, 'a secure context')

  const registered = await page.evaluate(({ email, password }) => (globalThis as any).registerPasskey(email, password), { email: user.email, password: PASSWORD })
  t.match(registered, { step: 'register', status: 201, body: { name: 'Virtual', last_used_at: null } })
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId })
  t.equal(credentials.length, 1)
  t.equal(credentials[0].isResidentCredential, true, 'discoverable')
  t.equal(credentials[0].rpId, 'localhost')

  const loggedIn = await page.evaluate(() => (globalThis as any).passwordless())
  t.match(loggedIn, { step: 'login', status: 200, allowCredentials: [], body: { user: { id: user.id } } })
  const claims = claimsOf(loggedIn.body.access)
  t.same(claims.amr, ['hwk', 'user'])
  t.equal(claims.acr, 'aal2')
  const stored = await app.repositories.passkeys.listByUser(user.id)
  t.equal(stored.length, 1)
  t.ok(stored[0].counter > 0 || stored[0].lastUsedAt !== null, 'the use is recorded')
  t.not(stored[0].lastUsedAt, null)
})
