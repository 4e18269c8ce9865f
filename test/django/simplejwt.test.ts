// simplejwt's routes (DJANGO_COMPAT) and the cut-over: Django-minted tokens (test/django/fixtures) accepted as the contract says.
import { createHmac } from 'node:crypto'
import Database from 'better-sqlite3'
import t, { type Test } from 'tap'
import { portcullis, tempDatabase } from '../cli/run.js'
import { build, loginUser, newUser, registerUser } from '../helper.js'
import { claimsOf, enrolTotp, MFA_ENV } from '../mfa/mfa-helper.js'
import { djangoDatabase, fixture } from './fixture.js'

const COMPAT = { DJANGO_COMPAT: 'true' }
const CUTOVER = { ...COMPAT, DJANGO_SECRET_KEY: fixture.secret_key, DJANGO_ACCESS_TOKEN_LIFETIME: '20000d', DJANGO_REFRESH_TOKEN_LIFETIME: '20000d' }
const { tokens } = fixture.default

async function importedApp (t: Test, env: Record<string, string>, from = djangoDatabase(t)) {
  const db = await tempDatabase(t)
  const result = await portcullis(['import-django', '--from', from], db.env)
  t.equal(result.code, 0, result.stderr)
  return { db, app: await build(t, {}, { env: { DATABASE_URL: db.url, ...env } }), imported: result }
}

const jtiOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).jti

/** A token like Django's, with its payload changed and signed with `key` (or unsigned, alg none). */
function forged (token: string, changes: Record<string, unknown>, key: string | null, alg = 'HS256'): string {
  const payload = { ...JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()), ...changes }
  const head = Buffer.from(JSON.stringify({ alg: key === null ? 'none' : alg, typ: 'JWT' })).toString('base64url')
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url')
  const signature = key === null ? '' : createHmac('sha256', key).update(`${head}.${body}`).digest('base64url')
  return `${head}.${body}.${signature}`
}

t.test('POST /api/token/ of an account with a second factor: 401 mfa_required, no session', async t => {
  const app = await build(t, {}, { env: { ...COMPAT, ...MFA_ENV } })
  const user = await loginUser(app)
  await enrolTotp(app, user.access, () => new Date())
  const res = await app.inject({ method: 'POST', url: '/api/token/', payload: { email: user.email, password: user.password } })
  t.equal(res.statusCode, 401)
  t.same(res.json(), { detail: 'This account has a second factor: log in at /api/auth/login', code: 'mfa_required' })
  t.equal((await app.repositories.sessions.listLive(user.id, new Date())).length, 1, 'only the session the factor was enrolled from')
})

t.test('off by default: the simplejwt routes are not found', async t => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/api/token/', payload: { email: 'a@example.com', password: 'x' } })
  t.equal(res.statusCode, 404)
})

t.test('POST /api/token/ answers as simplejwt: pair, 401 detail, 400 field errors', async t => {
  const app = await build(t, {}, { env: COMPAT })
  const user = await registerUser(app, newUser())
  const ok = await app.inject({ method: 'POST', url: '/api/token/', payload: { email: user.email, password: user.password } })
  t.equal(ok.statusCode, 200, ok.body)
  t.same(Object.keys(ok.json()).sort(), ['access', 'refresh'])
  const me = await app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${ok.json().access}` } })
  t.equal(me.statusCode, 200)

  const wrong = await app.inject({ method: 'POST', url: '/api/token/', payload: { email: user.email, password: 'wrong password' } })
  t.equal(wrong.statusCode, 401)
  t.same(wrong.json(), { detail: 'No active account found with the given credentials' })
  t.match(wrong.headers['content-type'], /^application\/json/)
  const unknown = await app.inject({ method: 'POST', url: '/api/token/', payload: { email: 'nobody@example.com', password: 'wrong password' } })
  t.same(unknown.json(), { detail: 'No active account found with the given credentials' })

  const missing = await app.inject({ method: 'POST', url: '/api/token/', payload: {} })
  t.equal(missing.statusCode, 400)
  t.same(missing.json(), { email: ['This field is required.'], password: ['This field is required.'] })
  const blank = await app.inject({ method: 'POST', url: '/api/token/', payload: { email: ' ', password: null } })
  t.same(blank.json(), { email: ['This field may not be blank.'], password: ['This field may not be null.'] })
  const notString = await app.inject({ method: 'POST', url: '/api/token/', payload: { email: ['x'], password: { a: 1 } } })
  t.same(notString.json(), { email: ['Not a valid string.'], password: ['Not a valid string.'] })
  const notJson = await app.inject({ method: 'POST', url: '/api/token/', headers: { 'content-type': 'application/json' }, payload: '{"email":' })
  t.equal(notJson.statusCode, 400)
  t.match(notJson.json(), { detail: /^JSON parse error - / })
  const noBody = await app.inject({ method: 'POST', url: '/api/token/' })
  t.equal(noBody.statusCode, 400)
  t.same(noBody.json(), { email: ['This field is required.'], password: ['This field is required.'] })
  const noSlash = await app.inject({ method: 'POST', url: '/api/token', payload: { email: user.email, password: user.password } })
  t.equal(noSlash.statusCode, 200, 'no trailing slash works too')
  const form = await app.inject({ method: 'POST', url: '/api/token/', headers: { 'content-type': 'text/csv' }, payload: 'a,b' })
  t.equal(form.statusCode, 415)
  t.same(form.json(), { detail: 'Unsupported media type "text/csv" in request.' })
})

t.test('fields are stripped as DRF\'s CharField strips them (trim_whitespace): surrounding spaces ignored, only spaces is blank', async t => {
  const app = await build(t, {}, { env: COMPAT })
  const user = await registerUser(app, newUser())
  const obtain = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/api/token/', payload })
  const padded = await obtain({ email: ` ${user.email}\n`, password: `  ${user.password}\t` })
  t.equal(padded.statusCode, 200, `surrounding spaces are not part of the password: ${padded.body}`)
  const pythonSpaces = await obtain({ email: user.email, password: `\u001f\u3000${user.password}\u0085\u00a0` })
  t.equal(pythonSpaces.statusCode, 200, 'what Python\'s str.strip() removes, incl. U+001F and U+0085')
  const bom = await obtain({ email: user.email, password: `\ufeff${user.password}` })
  t.equal(bom.statusCode, 401, 'U+FEFF is not whitespace to Python: kept, so the password is wrong')
  const inner = await obtain({ email: user.email, password: user.password.replace(' ', '  ') })
  t.equal(inner.statusCode, 401, 'spaces inside are kept')

  const blank = await obtain({ email: '\u3000\t\r\n', password: ' \u001c\u2028 ' })
  t.equal(blank.statusCode, 400)
  t.same(blank.json(), { email: ['This field may not be blank.'], password: ['This field may not be blank.'] })
  const empty = await obtain({ email: '', password: '' })
  t.same(empty.json(), { email: ['This field may not be blank.'], password: ['This field may not be blank.'] })
  const controls = await obtain({ email: ' a\u0000b@example.com ', password: 'x\ud800y' })
  t.equal(controls.statusCode, 400)
  t.same(controls.json(), { email: ['Null characters are not allowed.'], password: ['Surrogate characters are not allowed: U+D800.'] })
  const emoji = await obtain({ email: user.email, password: 'wrong \ud83d\ude00' })
  t.equal(emoji.statusCode, 401, 'a surrogate pair is one character, not a lone surrogate')

  // An account whose password itself has surrounding spaces cannot log in here, as with simplejwt.
  const spaced = await registerUser(app, newUser({ password: '  padded password of mine  ' }))
  t.equal((await obtain({ email: spaced.email, password: spaced.password })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: spaced.email, password: spaced.password } })).statusCode, 200)

  // The token fields are CharFields too.
  const pair = padded.json()
  const refreshed = await app.inject({ method: 'POST', url: '/api/token/refresh/', payload: { refresh: `\t${pair.refresh} ` } })
  t.equal(refreshed.statusCode, 200, refreshed.body)
  const verified = await app.inject({ method: 'POST', url: '/api/token/verify/', payload: { token: ` ${refreshed.json().access}\n` } })
  t.same([verified.statusCode, verified.json()], [200, {}])
  const blankRefresh = await app.inject({ method: 'POST', url: '/api/token/blacklist/', payload: { refresh: '   ' } })
  t.same([blankRefresh.statusCode, blankRefresh.json()], [400, { refresh: ['This field may not be blank.'] }])
  const blankToken = await app.inject({ method: 'POST', url: '/api/token/verify/', payload: { token: '\n' } })
  t.same([blankToken.statusCode, blankToken.json()], [400, { token: ['This field may not be blank.'] }])
  const blacklisted = await app.inject({ method: 'POST', url: '/api/token/blacklist/', payload: { refresh: ` ${refreshed.json().refresh} ` } })
  t.same([blacklisted.statusCode, blacklisted.json()], [200, {}])
})

t.test('the four routes take form bodies (application/x-www-form-urlencoded) with the same answers as JSON', async t => {
  const app = await build(t, {}, { env: COMPAT })
  const user = await registerUser(app, newUser())
  const form = (url: string, body: string, contentType = 'application/x-www-form-urlencoded') =>
    app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload: body })
  const encoded = (fields: Record<string, string>) => new URLSearchParams(fields).toString()

  const ok = await form('/api/token/', encoded({ email: user.email, password: user.password }))
  t.equal(ok.statusCode, 200, ok.body)
  t.same(Object.keys(ok.json()).sort(), ['access', 'refresh'])
  const charset = await form('/api/token/', encoded({ email: user.email, password: user.password }), 'application/x-www-form-urlencoded; charset=utf-8')
  t.equal(charset.statusCode, 200, 'with a charset parameter')
  const plus = await form('/api/token/', `email=+${encodeURIComponent(user.email)}+&password=${user.password.replaceAll(' ', '+')}`)
  t.equal(plus.statusCode, 200, '+ is a space, and surrounding spaces are stripped')

  const wrong = await form('/api/token/', encoded({ email: user.email, password: 'wrong password' }))
  t.same([wrong.statusCode, wrong.json()], [401, { detail: 'No active account found with the given credentials' }])
  t.equal(wrong.headers['www-authenticate'], 'Bearer realm="api"')
  const missing = await form('/api/token/', '')
  t.same([missing.statusCode, missing.json()], [400, { email: ['This field is required.'], password: ['This field is required.'] }])
  const onlyOther = await form('/api/token/', 'username=ada&remember=1')
  t.same(onlyOther.json(), { email: ['This field is required.'], password: ['This field is required.'] })
  const blank = await form('/api/token/', 'email=&password=+%09')
  t.same([blank.statusCode, blank.json()], [400, { email: ['This field may not be blank.'], password: ['This field may not be blank.'] }])
  const nul = await form('/api/token/', `email=${encodeURIComponent(user.email)}&password=a%00b`)
  t.same([nul.statusCode, nul.json()], [400, { password: ['Null characters are not allowed.'] }])
  const twice = await form('/api/token/', `email=${encodeURIComponent(user.email)}&password=wrong&password=${encodeURIComponent(user.password)}`)
  t.equal(twice.statusCode, 200, 'a field given twice counts by its last value, as QueryDict[key]')
  const twiceWrong = await form('/api/token/', `email=${encodeURIComponent(user.email)}&password=${encodeURIComponent(user.password)}&password=wrong`)
  t.equal(twiceWrong.statusCode, 401)
  const badEscapes = await form('/api/token/', `email=${encodeURIComponent(user.email)}&password=%zz%ff`)
  t.equal(badEscapes.statusCode, 401, 'bad escapes and bytes that are not UTF-8 are a wrong password, not an error')
  const proto = await form('/api/token/', '__proto__=x&constructor=y&email=&password=')
  t.same([proto.statusCode, proto.json()], [400, { email: ['This field may not be blank.'], password: ['This field may not be blank.'] }])

  const refreshed = await form('/api/token/refresh/', encoded({ refresh: ok.json().refresh }))
  t.equal(refreshed.statusCode, 200, refreshed.body)
  t.same(Object.keys(refreshed.json()).sort(), ['access', 'refresh'])
  const unknown = await form('/api/token/refresh/', 'refresh=not+a+token')
  t.same([unknown.statusCode, unknown.json()], [401, { detail: 'Token is invalid or expired', code: 'token_not_valid' }])
  t.same((await form('/api/token/refresh/', 'refresh=')).json(), { refresh: ['This field may not be blank.'] })

  const verified = await form('/api/token/verify/', encoded({ token: refreshed.json().access }))
  t.same([verified.statusCode, verified.json()], [200, {}])
  const verifyBad = await form('/api/token/verify/', 'token=a.b.c')
  t.same([verifyBad.statusCode, verifyBad.json()], [401, { detail: 'Token is invalid or expired', code: 'token_not_valid' }])
  t.same((await form('/api/token/verify/', 'tokens=x')).json(), { token: ['This field is required.'] })

  const blacklisted = await form('/api/token/blacklist/', encoded({ refresh: refreshed.json().refresh }))
  t.same([blacklisted.statusCode, blacklisted.json()], [200, {}])
  const again = await form('/api/token/blacklist/', encoded({ refresh: refreshed.json().refresh }))
  t.same([again.statusCode, again.json()], [401, { detail: 'Token is invalid or expired', code: 'token_not_valid' }])

  const multipart = await form('/api/token/', '--b\r\ncontent-disposition: form-data; name="email"\r\n\r\nx\r\n--b--\r\n', 'multipart/form-data; boundary=b')
  t.same([multipart.statusCode, multipart.json()], [415, { detail: 'Unsupported media type "multipart/form-data; boundary=b" in request.' }])
  const huge = await form('/api/token/', `email=a&password=${'x'.repeat(1024 * 1024)}`)
  t.same([huge.statusCode, huge.json()], [413, { detail: 'Request body is too large.' }])
  const elsewhere = await form('/api/auth/login', encoded({ email: user.email, password: user.password }))
  t.equal(elsewhere.statusCode, 415, 'the rest of the API stays JSON-only')
})

t.test('DJANGO_USERNAME_FIELD=username', async t => {
  const app = await build(t, {}, { env: { ...COMPAT, DJANGO_USERNAME_FIELD: 'username' } })
  const user = await registerUser(app, newUser())
  const ok = await app.inject({ method: 'POST', url: '/api/token/', payload: { username: user.username, password: user.password } })
  t.equal(ok.statusCode, 200, ok.body)
  const byEmail = await app.inject({ method: 'POST', url: '/api/token/', payload: { email: user.email, password: user.password } })
  t.same(byEmail.json(), { username: ['This field is required.'] })
})

t.test('refresh rotates, verify and blacklist answer as simplejwt', async t => {
  const app = await build(t, {}, { env: COMPAT })
  const user = await registerUser(app, newUser())
  const pair = (await app.inject({ method: 'POST', url: '/api/token/', payload: { email: user.email, password: user.password } })).json()
  const refreshed = await app.inject({ method: 'POST', url: '/api/token/refresh/', payload: { refresh: pair.refresh } })
  t.equal(refreshed.statusCode, 200, refreshed.body)
  t.same(Object.keys(refreshed.json()).sort(), ['access', 'refresh'])
  t.not(refreshed.json().refresh, pair.refresh)

  const bad = await app.inject({ method: 'POST', url: '/api/token/refresh/', payload: { refresh: 'not a token' } })
  t.equal(bad.statusCode, 401)
  t.same(bad.json(), { detail: 'Token is invalid or expired', code: 'token_not_valid' })
  t.same((await app.inject({ method: 'POST', url: '/api/token/refresh/', payload: {} })).json(), { refresh: ['This field is required.'] })

  t.same((await app.inject({ method: 'POST', url: '/api/token/verify/', payload: { token: refreshed.json().access } })).json(), {})
  t.same((await app.inject({ method: 'POST', url: '/api/token/verify/', payload: { token: refreshed.json().refresh } })).json(), {})
  const verifyBad = await app.inject({ method: 'POST', url: '/api/token/verify/', payload: { token: 'a.b.c' } })
  t.equal(verifyBad.statusCode, 401)
  t.same(verifyBad.json(), { detail: 'Token is invalid or expired', code: 'token_not_valid' })

  const blacklisted = await app.inject({ method: 'POST', url: '/api/token/blacklist/', payload: { refresh: refreshed.json().refresh } })
  t.equal(blacklisted.statusCode, 200)
  t.same(blacklisted.json(), {})
  const again = await app.inject({ method: 'POST', url: '/api/token/blacklist/', payload: { refresh: refreshed.json().refresh } })
  t.equal(again.statusCode, 401)
  t.same(again.json(), { detail: 'Token is invalid or expired', code: 'token_not_valid' })
  const after = await app.inject({ method: 'POST', url: '/api/token/refresh/', payload: { refresh: refreshed.json().refresh } })
  t.equal(after.statusCode, 401, 'a blacklisted refresh token refreshes nothing')
})

t.test('POST /api/token/verify/ takes a refresh token only while a refresh with it would work', async t => {
  const app = await build(t, {}, { env: COMPAT })
  const user = await loginUser(app)
  t.same((await app.inject({ method: 'POST', url: '/api/token/verify/', payload: { token: user.refresh } })).json(), {})
  // Disabled without its sessions ending (as a later import-django run of a user Django disabled does).
  await app.repositories.users.update(user.id, { isActive: false })
  const disabled = await app.inject({ method: 'POST', url: '/api/token/verify/', payload: { token: user.refresh } })
  t.equal(disabled.statusCode, 401)
  t.same(disabled.json(), { detail: 'Token is invalid or expired', code: 'token_not_valid' })
  const blacklisted = await app.inject({ method: 'POST', url: '/api/token/blacklist/', payload: { refresh: user.refresh } })
  t.equal(blacklisted.statusCode, 200, 'a logout needs no usable account (simplejwt blacklists whatever the user)')
  t.equal((await app.repositories.sessions.listLive(user.id, new Date())).length, 0, 'the session ended')
})

t.test('every Portcullis path answers with a trailing slash too', async t => {
  const app = await build(t)
  const user = await registerUser(app, newUser())
  const login = await app.inject({ method: 'POST', url: '/api/auth/login/', payload: { email: user.email, password: user.password } })
  t.equal(login.statusCode, 200)
  const me = await app.inject({ method: 'GET', url: '/api/auth/me/', headers: { authorization: `Bearer ${login.json().access}` } })
  t.equal(me.statusCode, 200)
})

t.test('cut-over: a Django refresh token is exchanged once, by either refresh route', async t => {
  const { app } = await importedApp(t, CUTOVER)
  const first = await app.inject({ method: 'POST', url: '/api/token/refresh/', payload: { refresh: tokens.refresh } })
  t.equal(first.statusCode, 200, first.body)
  const me = await app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${first.json().access}` } })
  t.equal(me.json().email, fixture.default.users[tokens.user].email)
  const next = await app.inject({ method: 'POST', url: '/api/token/refresh/', payload: { refresh: first.json().refresh } })
  t.equal(next.statusCode, 200, 'the Portcullis refresh token it gave rotates')

  const reuse = await app.inject({ method: 'POST', url: '/api/token/refresh/', payload: { refresh: tokens.refresh } })
  t.equal(reuse.statusCode, 401, 'a second use is reuse')
  t.same(reuse.json(), { detail: 'Token is invalid or expired', code: 'token_not_valid' })
  const reuseThere = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: tokens.refresh } })
  t.equal(reuseThere.statusCode, 401)

  const portcullisRoute = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: tokens.refresh2 } })
  t.equal(portcullisRoute.statusCode, 200, portcullisRoute.body)
  t.ok(portcullisRoute.json().access)
  const twice = await Promise.all([0, 1].map(() => app.inject({ method: 'POST', url: '/api/token/refresh/', payload: { refresh: tokens.refresh2 } })))
  t.same(twice.map(r => r.statusCode), [401, 401])
})

t.test('cut-over: two exchanges of one unused Django refresh token race, one wins', async t => {
  const { app } = await importedApp(t, CUTOVER)
  const fresh = forged(tokens.refresh, { jti: 'raced-token' }, fixture.secret_key)
  const raced = await Promise.all([
    app.inject({ method: 'POST', url: '/api/token/refresh/', payload: { refresh: fresh } }),
    app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: fresh } })
  ])
  t.same(raced.map(r => r.statusCode).sort(), [200, 401], raced.map(r => r.body).join(' | '))
  const user = await app.repositories.django.findUserByLegacyId(fixture.default.users[tokens.user].id)
  t.equal((await app.repositories.sessions.listLive(user!.id, new Date())).length, 1, 'one session, not two')
})

t.test('cut-over: an exchange that fails to open a session does not spend the Django token', async t => {
  const { app } = await importedApp(t, CUTOVER)
  const sessions = app.repositories.sessions
  const create = sessions.create
  sessions.create = async () => { throw new Error('injected: the database failed') }
  const failed = await app.inject({ method: 'POST', url: '/api/token/refresh/', payload: { refresh: tokens.refresh } })
  t.equal(failed.statusCode, 500)
  sessions.create = create
  const retried = await app.inject({ method: 'POST', url: '/api/token/refresh/', payload: { refresh: tokens.refresh } })
  t.equal(retried.statusCode, 200, retried.body)
  const claims = claimsOf(retried.json().access)
  t.same([claims.amr, claims.acr], [['pwd'], 'aal1'], 'the Django session began with a password')
  const logins = await app.repositories.audit.list({ type: 'user.login', limit: 50 })
  t.same(logins.map(event => JSON.parse(event.data)).map(({ method, amr }) => ({ method, amr })), [{ method: 'password', amr: ['pwd'] }])
})

t.test('cut-over: a refresh token Django had blacklisted is refused', async t => {
  const from = djangoDatabase(t)
  const django = new Database(from)
  // What simplejwt's RefreshToken.blacklist() writes (a logout, or a rotation with BLACKLIST_AFTER_ROTATION).
  const outstanding = django.prepare('SELECT id FROM token_blacklist_outstandingtoken WHERE jti = ?').get(jtiOf(tokens.refresh2)) as { id: number }
  django.prepare("INSERT INTO token_blacklist_blacklistedtoken (token_id, blacklisted_at) VALUES (?, '2026-01-01 00:00:00')").run(outstanding.id)
  django.close()
  const { app, imported } = await importedApp(t, CUTOVER, from)
  t.match(imported.stdout, 'Refresh tokens Django blacklisted: 1 recorded as used')
  const blacklisted = await app.inject({ method: 'POST', url: '/api/token/refresh/', payload: { refresh: tokens.refresh2 } })
  t.equal(blacklisted.statusCode, 401)
  t.same(blacklisted.json(), { detail: 'Token is invalid or expired', code: 'token_not_valid' })
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: tokens.refresh2 } })).statusCode, 401)
  const other = await app.inject({ method: 'POST', url: '/api/token/refresh/', payload: { refresh: tokens.refresh } })
  t.equal(other.statusCode, 200, 'a token Django did not blacklist is exchanged')
})

t.test('cut-over: an account with a second factor here is not entered with a Django token', async t => {
  const { app } = await importedApp(t, { ...CUTOVER, ...MFA_ENV })
  const ada = fixture.default.users[tokens.user]
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: ada.email, password: fixture.password } })
  t.equal(login.statusCode, 200, login.body)
  await enrolTotp(app, login.json().access, () => new Date())
  const refused = await app.inject({ method: 'POST', url: '/api/token/refresh/', payload: { refresh: tokens.refresh } })
  t.equal(refused.statusCode, 401)
  t.same(refused.json(), { detail: 'Token is invalid or expired', code: 'token_not_valid' })
  const user = await app.repositories.django.findUserByLegacyId(ada.id)
  t.equal((await app.repositories.sessions.listLive(user!.id, new Date())).length, 1, 'only the password login\'s session')
})

t.test('cut-over: a Django access token is accepted by /api/auth/me until it expires', async t => {
  const { app } = await importedApp(t, CUTOVER)
  const me = await app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${tokens.access}` } })
  t.equal(me.statusCode, 200, me.body)
  t.equal(me.json().email, fixture.default.users[tokens.user].email)
  const expired = forged(tokens.access, { exp: Math.floor(Date.now() / 1000) - 1 }, fixture.secret_key)
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${expired}` } })).statusCode, 401)
  const sessions = await app.inject({ method: 'GET', url: '/api/auth/sessions', headers: { authorization: `Bearer ${tokens.access}` } })
  t.equal(sessions.statusCode, 401, 'only /api/auth/me takes a Django access token')
})

t.test('cut-over: other keys, alg none, wrong types and users that were not imported are refused', async t => {
  const { app } = await importedApp(t, CUTOVER)
  const refused = {
    'another key': forged(tokens.refresh, { jti: 'a' }, 'another secret key'),
    'alg none': forged(tokens.refresh, { jti: 'b' }, null),
    'HS512 header on an HS256 deployment': forged(tokens.refresh, { jti: 'c' }, fixture.secret_key, 'HS512'),
    'an access token': tokens.access,
    'a user that was not imported': forged(tokens.refresh, { jti: 'd', user_id: 999999 }, fixture.secret_key),
    expired: forged(tokens.refresh, { jti: 'e', exp: Math.floor(Date.now() / 1000) - 1 }, fixture.secret_key)
  }
  for (const [what, token] of Object.entries(refused)) {
    const res = await app.inject({ method: 'POST', url: '/api/token/refresh/', payload: { refresh: token } })
    t.equal(res.statusCode, 401, what)
    if (token === tokens.access) continue
    const access = forged(token, { token_type: 'access' }, what === 'another key' ? 'another secret key' : what === 'alg none' ? null : fixture.secret_key, what.startsWith('HS512') ? 'HS512' : 'HS256')
    const me = await app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${access}` } })
    t.equal(me.statusCode, 401, `${what}: not at /api/auth/me either`)
  }
  const forgedAccess = forged(tokens.access, {}, 'another secret key')
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${forgedAccess}` } })).statusCode, 401)
  const noneAccess = forged(tokens.access, {}, null)
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${noneAccess}` } })).statusCode, 401)
})

t.test('without DJANGO_SECRET_KEY, Django tokens are refused', async t => {
  const { app } = await importedApp(t, COMPAT)
  t.equal((await app.inject({ method: 'POST', url: '/api/token/refresh/', payload: { refresh: tokens.refresh } })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${tokens.access}` } })).statusCode, 401)
})
