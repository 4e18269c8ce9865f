import t from 'tap'
import { bearer, build, loginUser, manualClock, PASSWORD } from '../helper.js'
import { loginAs } from '../admin-helper.js'
import { portcullis, tempDatabase } from '../cli/run.js'
import { claimsOf, enrolTotp, MFA_ENV, ORIGIN, passkeyLoginOptions, registerPasskey, totpCode } from './mfa-helper.js'
import { SoftwareAuthenticator } from './software-authenticator.js'

async function auditTypes (app: Awaited<ReturnType<typeof build>>, userId: string) {
  return (await app.repositories.audit.list({ limit: 10_000 })).filter(event => event.subjectId === userId).map(event => ({ type: event.type, data: typeof event.data === 'string' ? JSON.parse(event.data) : event.data }))
}

t.test('registration: creation options, then a passkey listed, renamed and removed', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const options = await app.inject({ method: 'POST', url: '/api/auth/passkeys/options', headers: bearer(user.access) })
  t.equal(options.statusCode, 200)
  t.equal(options.headers['cache-control'], 'no-store')
  const json = options.json()
  t.match(json, {
    rp: { id: 'portcullis.test', name: 'Portcullis' },
    user: { id: Buffer.from(user.id).toString('base64url'), name: user.email, displayName: user.username },
    attestation: 'none',
    excludeCredentials: [],
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true }
  })
  t.same(json.pubKeyCredParams.map((p: { alg: number }) => p.alg), [-7, -8, -257], 'ES256, EdDSA, RS256')
  t.match(json.challenge, /^[A-Za-z0-9_-]{43}$/)

  const authenticator = new SoftwareAuthenticator(ORIGIN)
  const credential = authenticator.create(json, -7)
  const registered = await app.inject({ method: 'POST', url: '/api/auth/passkeys', headers: bearer(user.access), payload: { credential, name: 'Laptop' } })
  t.equal(registered.statusCode, 201)
  const passkey = registered.json()
  t.match(passkey, { id: /^[0-9a-f-]{36}$/, name: 'Laptop', created_at: /Z$/, last_used_at: null })
  t.same(Object.keys(passkey).sort(), ['created_at', 'id', 'last_used_at', 'name'], 'never the key')

  const ed = await registerPasskey(app, user.access, authenticator, -8)
  t.equal(ed.name, 'Passkey', 'a default name')
  const again = (await app.inject({ method: 'POST', url: '/api/auth/passkeys/options', headers: bearer(user.access) })).json()
  t.same(again.excludeCredentials.map((c: { id: string }) => c.id).sort(), authenticator.credentials.map(c => c.id.toString('base64url')).sort(), 'the user\'s passkeys are excluded')
  t.same(again.excludeCredentials[0].transports, ['internal'])

  const status = await app.inject({ method: 'GET', url: '/api/auth/mfa', headers: bearer(user.access) })
  t.same(status.json(), { totp: false, passkeys: [passkey, ed], recovery_codes_left: 0 })

  const renamed = await app.inject({ method: 'PATCH', url: `/api/auth/passkeys/${passkey.id}`, headers: bearer(user.access), payload: { name: 'Work laptop' } })
  t.equal(renamed.statusCode, 200)
  t.same(renamed.json(), { ...passkey, name: 'Work laptop' })
  const blank = await app.inject({ method: 'PATCH', url: `/api/auth/passkeys/${passkey.id}`, headers: bearer(user.access), payload: { name: '   ' } })
  t.equal(blank.json().code, 'validation_failed')
  const other = await loginUser(app)
  const notTheirs = await app.inject({ method: 'PATCH', url: `/api/auth/passkeys/${passkey.id}`, headers: bearer(other.access), payload: { name: 'Mine' } })
  t.equal(notTheirs.statusCode, 404)
  t.equal(notTheirs.json().code, 'not_found')

  // The session is aal1 (a password login before the passkey existed): removal needs a step-up now.
  const refused = await app.inject({ method: 'DELETE', url: `/api/auth/passkeys/${passkey.id}`, headers: bearer(user.access) })
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().code, 'step_up_required')
  t.match(refused.headers['www-authenticate'], /error="insufficient_user_authentication".*acr_values="aal2"/)
  const notTheirsDelete = await app.inject({ method: 'DELETE', url: `/api/auth/passkeys/${passkey.id}`, headers: bearer(other.access) })
  t.equal(notTheirsDelete.statusCode, 404)

  const login = (await passkeyLoginOptions(app))
  const strong = await app.inject({ method: 'POST', url: '/api/auth/passkeys/login', payload: { credential: authenticator.get(login, { credential: authenticator.credentials[0] }) } })
  const aal2 = strong.json().access
  t.equal((await app.inject({ method: 'DELETE', url: `/api/auth/passkeys/${passkey.id}`, headers: bearer(aal2) })).statusCode, 204)
  t.equal((await app.inject({ method: 'DELETE', url: `/api/auth/passkeys/${passkey.id}`, headers: bearer(aal2) })).statusCode, 404, 'gone')
  t.equal((await app.inject({ method: 'DELETE', url: `/api/auth/passkeys/${ed.id}`, headers: bearer(aal2) })).statusCode, 204)
  t.same((await app.inject({ method: 'GET', url: '/api/auth/mfa', headers: bearer(user.access) })).json().passkeys, [])
  const oneStep = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
  t.type(oneStep.json().access, 'string', 'without a factor the password is enough again')

  const events = await auditTypes(app, user.id)
  t.same(events.filter(e => e.type.startsWith('mfa.')), [
    { type: 'mfa.enabled', data: { method: 'webauthn', passkey_id: passkey.id } },
    { type: 'mfa.enabled', data: { method: 'webauthn', passkey_id: ed.id } },
    { type: 'mfa.disabled', data: { method: 'webauthn', passkey_id: passkey.id } },
    { type: 'mfa.disabled', data: { method: 'webauthn', passkey_id: ed.id } }
  ])
  t.match(events.filter(e => e.type === 'user.login').at(-2), { data: { method: 'passkey' } }, 'the passkey login is recorded as one')
})

t.test('removing the last second factor takes the recovery codes; a passkey keeps them while TOTP goes', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now, env: MFA_ENV })
  const user = await loginUser(app)
  const { secret } = await enrolTotp(app, user.access, clock.now)
  clock.advance(60_000)
  const raised = (await app.inject({ method: 'POST', url: '/api/auth/mfa/step-up', headers: bearer(user.access), payload: { method: 'totp', code: totpCode(secret, clock.now()) } })).json().access
  const authenticator = new SoftwareAuthenticator(ORIGIN)
  const passkey = await registerPasskey(app, raised, authenticator)
  t.equal((await app.inject({ method: 'DELETE', url: '/api/auth/mfa/totp', headers: bearer(raised) })).statusCode, 204)
  t.same((await app.inject({ method: 'GET', url: '/api/auth/mfa', headers: bearer(raised) })).json(), { totp: false, passkeys: [passkey], recovery_codes_left: 10 }, 'the passkey still has its backup codes')
  t.equal((await app.inject({ method: 'DELETE', url: `/api/auth/passkeys/${passkey.id}`, headers: bearer(raised) })).statusCode, 204)
  t.same((await app.inject({ method: 'GET', url: '/api/auth/mfa', headers: bearer(raised) })).json(), { totp: false, passkeys: [], recovery_codes_left: 0 }, 'no factor, no codes')
})

t.test('second factor: a password, then a passkey of the user (ES256 and EdDSA)', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const authenticator = new SoftwareAuthenticator(ORIGIN, { userVerifying: false })
  await registerPasskey(app, user.access, authenticator, -7)
  await registerPasskey(app, user.access, authenticator, -8)

  for (const credential of authenticator.credentials) {
    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
    t.match(login.json(), { mfa_required: true, methods: ['webauthn'] })
    const mfaToken = login.json().mfa_token
    const options = await app.inject({ method: 'POST', url: '/api/auth/mfa/webauthn/options', payload: { mfa_token: mfaToken } })
    t.equal(options.statusCode, 200)
    t.match(options.json(), { rpId: 'portcullis.test', userVerification: 'preferred' })
    t.same(options.json().allowCredentials.map((c: { id: string }) => c.id).sort(), authenticator.credentials.map(c => c.id.toString('base64url')).sort())
    const verified = await app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: mfaToken, method: 'webauthn', credential: authenticator.get(options.json(), { credential }) } })
    t.equal(verified.statusCode, 200, `alg ${credential.alg}`)
    t.match(String(verified.headers['set-cookie']), /^refresh_token=/)
    const claims = claimsOf(verified.json().access)
    t.same(claims.amr, ['pwd', 'hwk', 'mfa'])
    t.equal(claims.acr, 'aal2')
    const reused = await app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: mfaToken, method: 'webauthn', credential: authenticator.get(options.json(), { credential }) } })
    t.equal(reused.json().code, 'invalid_mfa_token', 'the mfa_token is spent')
  }
  const status = (await app.inject({ method: 'GET', url: '/api/auth/mfa', headers: bearer(user.access) })).json()
  for (const passkey of status.passkeys) t.match(passkey.last_used_at, /Z$/, 'the use is recorded')
  const stored = await app.repositories.passkeys.listByUser(user.id)
  t.same(stored.map(p => p.counter), [1, 1], 'the counters moved')

  // With TOTP too, both are offered.
  const both = await build(t, {}, { env: MFA_ENV })
  const second = await loginUser(both)
  const clock = { now: () => new Date() }
  await enrolTotp(both, second.access, clock.now)
  await registerPasskey(both, second.access, new SoftwareAuthenticator(ORIGIN))
  const login = await both.inject({ method: 'POST', url: '/api/auth/login', payload: { email: second.email, password: PASSWORD } })
  t.same(login.json().methods, ['totp', 'webauthn', 'recovery_code'])
})

t.test('a wrong assertion counts toward RATE_LIMIT_MFA_ACCOUNT like a wrong code, and leaves the mfa_token usable', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_MFA_ACCOUNT: '3/5m' } })
  const user = await loginUser(app)
  const authenticator = new SoftwareAuthenticator(ORIGIN)
  await registerPasskey(app, user.access, authenticator)
  const mfaToken = (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })).json().mfa_token
  const options = async () => (await app.inject({ method: 'POST', url: '/api/auth/mfa/webauthn/options', payload: { mfa_token: mfaToken } })).json()
  const verify = (credential: unknown) => app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: mfaToken, method: 'webauthn', credential } })
  const wrongOrigin = await verify(authenticator.get(await options(), { origin: 'https://evil.test' }))
  t.equal(wrongOrigin.statusCode, 401)
  t.equal(wrongOrigin.json().code, 'invalid_mfa_code')
  const good = authenticator.get(await options())
  t.equal((await verify(good)).statusCode, 200, 'the token survived a wrong answer')

  const next = (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })).json().mfa_token
  const again = async () => (await app.inject({ method: 'POST', url: '/api/auth/mfa/webauthn/options', payload: { mfa_token: next } })).json()
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: next, method: 'webauthn', credential: authenticator.get(await again(), { rpId: 'evil.test' }) } })
    t.equal(res.json().code, 'invalid_mfa_code')
  }
  const limited = await app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: next, method: 'webauthn', credential: authenticator.get(await again()) } })
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'rate_limited')
})

t.test('passwordless: a discoverable passkey with user verification logs in at aal2', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const authenticator = new SoftwareAuthenticator(ORIGIN, { backupEligible: true })
  await registerPasskey(app, user.access, authenticator, -8)

  const res = await app.inject({ method: 'POST', url: '/api/auth/passkeys/login/options', payload: {} })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const options = res.json()
  t.match(options, { rpId: 'portcullis.test', userVerification: 'required', allowCredentials: [] })
  const login = await app.inject({ method: 'POST', url: '/api/auth/passkeys/login', payload: { credential: authenticator.get(options) } })
  t.equal(login.statusCode, 200)
  t.equal(login.headers['cache-control'], 'no-store')
  t.match(String(login.headers['set-cookie']), /^refresh_token=/)
  t.equal(login.json().user.id, user.id)
  const claims = claimsOf(login.json().access)
  t.same(claims.amr, ['swk', 'user'], 'a synced passkey is a software key')
  t.equal(claims.acr, 'aal2')
  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: login.json().refresh } })
  t.equal(claimsOf(refreshed.json().access).acr, 'aal2', 'the session keeps its level')

  // Body-less options, and options naming an email: the account's passkeys.
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/passkeys/login/options' })).statusCode, 200)
  const named = await passkeyLoginOptions(app, { email: ` ${user.email.toUpperCase()} ` })
  t.same(named.allowCredentials.map((c: { id: string }) => c.id), [authenticator.credentials[0].id.toString('base64url')])
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/passkeys/login', payload: { credential: authenticator.get(named) } })).statusCode, 200)

  // Clients that write what is unknown as null rather than leaving it out.
  const nulls = authenticator.get(await passkeyLoginOptions(app, { email: user.email }))
  const withNulls = { ...nulls, authenticatorAttachment: null, response: { ...nulls.response, userHandle: null } }
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/passkeys/login', payload: { credential: withNulls } })).statusCode, 200)
})

t.test('passwordless options for an unknown email look like those of a known one', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const unknown = await passkeyLoginOptions(app, { email: 'nobody@example.com' })
  const without = await passkeyLoginOptions(app, { email: user.email })
  for (const options of [unknown, without]) {
    t.same(Object.keys(options).sort(), ['allowCredentials', 'challenge', 'rpId', 'timeout', 'userVerification'])
    t.equal(options.allowCredentials.length, 1)
    t.match(options.allowCredentials[0], { id: /^[A-Za-z0-9_-]{22}$/, type: 'public-key' })
  }
  t.same((await passkeyLoginOptions(app, { email: 'nobody@example.com' })).allowCredentials, unknown.allowCredentials, 'stable: asking twice tells nothing')
  t.not(unknown.allowCredentials[0].id, without.allowCredentials[0].id)
})

t.test('passwordless login honours the account state and REQUIRE_EMAIL_VERIFICATION as the password does', async t => {
  const app = await build(t, {}, { env: { REQUIRE_EMAIL_VERIFICATION: 'true' } })
  const registered = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: 'ada@example.com', username: 'ada', password: PASSWORD } })
  const userId = registered.json().user.id
  await app.repositories.users.update(userId, { emailVerified: true })
  const { access } = (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'ada@example.com', password: PASSWORD } })).json()
  const authenticator = new SoftwareAuthenticator(ORIGIN)
  await registerPasskey(app, access, authenticator)
  const attempt = async () => app.inject({ method: 'POST', url: '/api/auth/passkeys/login', payload: { credential: authenticator.get(await passkeyLoginOptions(app)) } })

  await app.repositories.users.update(userId, { emailVerified: false })
  const unverified = await attempt()
  t.equal(unverified.statusCode, 403)
  t.equal(unverified.json().code, 'email_not_verified')
  await app.repositories.users.update(userId, { emailVerified: true, isActive: false })
  t.equal((await attempt()).json().code, 'account_disabled')
  await app.repositories.users.update(userId, { isActive: true, isBanned: true })
  t.equal((await attempt()).json().code, 'account_banned')
  await app.repositories.users.update(userId, { isBanned: false })
  t.equal((await attempt()).statusCode, 200)
})

t.test('step-up with a passkey: options for the session, then an aal2 token of the same session', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const authenticator = new SoftwareAuthenticator(ORIGIN)
  const passkey = await registerPasskey(app, user.access, authenticator)

  const anonymous = await app.inject({ method: 'POST', url: '/api/auth/mfa/webauthn/options', payload: {} })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, 'not_authenticated')
  const options = await app.inject({ method: 'POST', url: '/api/auth/mfa/webauthn/options', headers: bearer(user.access) })
  t.equal(options.statusCode, 200)
  t.equal(options.json().allowCredentials.length, 1)
  const raised = await app.inject({ method: 'POST', url: '/api/auth/mfa/step-up', headers: bearer(user.access), payload: { method: 'webauthn', credential: authenticator.get(options.json()) } })
  t.equal(raised.statusCode, 200)
  const claims = claimsOf(raised.json().access)
  t.same(claims.amr, ['pwd', 'hwk', 'mfa'])
  t.equal(claims.acr, 'aal2')
  t.equal(claims.sid, claimsOf(user.access).sid, 'the same session')
  t.equal((await app.inject({ method: 'DELETE', url: `/api/auth/passkeys/${passkey.id}`, headers: bearer(raised.json().access) })).statusCode, 204)

  // A challenge of another session does not raise this one.
  const other = await loginUser(app)
  const otherAuthenticator = new SoftwareAuthenticator(ORIGIN)
  await registerPasskey(app, other.access, otherAuthenticator)
  const secondLogin = (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: other.email, password: PASSWORD } })).json()
  t.equal(secondLogin.mfa_required, true)
  const forFirst = (await app.inject({ method: 'POST', url: '/api/auth/mfa/webauthn/options', headers: bearer(other.access) })).json()
  const mfaOptions = (await app.inject({ method: 'POST', url: '/api/auth/mfa/webauthn/options', payload: { mfa_token: secondLogin.mfa_token } })).json()
  const crossed = await app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: secondLogin.mfa_token, method: 'webauthn', credential: otherAuthenticator.get(forFirst) } })
  t.equal(crossed.json().code, 'invalid_mfa_code', 'a step-up challenge does not finish a login')
  const crossedBack = await app.inject({ method: 'POST', url: '/api/auth/mfa/step-up', headers: bearer(other.access), payload: { method: 'webauthn', credential: otherAuthenticator.get(mfaOptions) } })
  t.equal(crossedBack.json().code, 'invalid_mfa_code', 'a login challenge does not raise a session')

  const mixed = await app.inject({ method: 'POST', url: '/api/auth/mfa/step-up', headers: bearer(other.access), payload: { method: 'webauthn', code: '123456' } })
  t.equal(mixed.json().code, 'validation_failed')
  const noCode = await app.inject({ method: 'POST', url: '/api/auth/mfa/step-up', headers: bearer(other.access), payload: { method: 'totp' } })
  t.equal(noCode.json().code, 'validation_failed')
  const none = await app.inject({ method: 'POST', url: '/api/auth/mfa/webauthn/options', headers: bearer(user.access) })
  t.equal(none.statusCode, 409)
  t.equal(none.json().code, 'no_passkey')
})

t.test('the admin view counts passkeys; DELETE /api/admin/users/{id}/mfa and portcullis mfa-reset remove them', async t => {
  const db = await tempDatabase(t)
  const app = await build(t, {}, { env: { DATABASE_URL: db.url } })
  const admin = await loginAs(app, { staff: true, permissions: ['users.view', 'users.change'] })
  const user = await loginUser(app)
  const authenticator = new SoftwareAuthenticator(ORIGIN)
  await registerPasskey(app, user.access, authenticator)
  await registerPasskey(app, user.access, authenticator, -8)
  const view = await app.inject({ url: `/api/admin/users/${user.id}`, headers: bearer(admin.access) })
  t.same(view.json().mfa, { totp: false, passkeys: 2, recovery_codes_left: 0 })
  t.notOk(JSON.stringify(view.json()).includes((await app.repositories.passkeys.listByUser(user.id))[0].publicKey), 'never a key')

  const reset = await app.inject({ method: 'DELETE', url: `/api/admin/users/${user.id}/mfa`, headers: bearer(admin.access) })
  t.equal(reset.statusCode, 204)
  t.same((await app.inject({ url: `/api/admin/users/${user.id}`, headers: bearer(admin.access) })).json().mfa, { totp: false, passkeys: 0, recovery_codes_left: 0 })
  t.same(await app.repositories.passkeys.listByUser(user.id), [])
  const passwordless = await app.inject({ method: 'POST', url: '/api/auth/passkeys/login', payload: { credential: authenticator.get(await passkeyLoginOptions(app)) } })
  t.equal(passwordless.json().code, 'invalid_credential', 'a removed passkey logs in no more')

  const fresh = (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })).json().access
  await registerPasskey(app, fresh, authenticator)
  const cli = await portcullis(['mfa-reset', user.email], db.env)
  t.equal(cli.code, 0, cli.stderr)
  t.match(cli.stdout, /^Removed the second factors of/)
  t.same(await app.repositories.passkeys.listByUser(user.id), [])
})

t.test('the passwordless routes are limited per address (RATE_LIMIT_LOGIN_REQUESTS_IP), each route on its own', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_LOGIN_REQUESTS_IP: '2/1m' } })
  const options = (remoteAddress: string) => app.inject({ method: 'POST', url: '/api/auth/passkeys/login/options', payload: {}, remoteAddress })
  t.equal((await options('192.0.2.30')).statusCode, 200)
  t.equal((await options('192.0.2.30')).statusCode, 200)
  const limited = await options('192.0.2.30')
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'rate_limited')
  t.equal((await options('192.0.2.31')).statusCode, 200, 'another address is not limited')
  const login = () => app.inject({ method: 'POST', url: '/api/auth/passkeys/login', payload: { credential: { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'AAAA', authenticatorData: 'AAAA', signature: 'AAAA' } } }, remoteAddress: '192.0.2.30' })
  t.equal((await login()).statusCode, 401, 'the login route counts apart')
  t.equal((await login()).statusCode, 401)
  t.equal((await login()).statusCode, 429)
})
