import t from 'tap'
import { bearer, build, loginUser, manualClock, PASSWORD } from '../helper.js'
import { tempDatabase } from '../cli/run.js'
import { claimsOf, enrolTotp, MFA_ENV, totpCode } from './mfa-helper.js'

const STEP_MS = 30_000

t.test('enrolment: a sealed secret, a URI and a QR code, pending until a first code confirms it', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now, env: MFA_ENV })
  const user = await loginUser(app)
  const enrolled = await app.inject({ method: 'POST', url: '/api/auth/mfa/totp', headers: bearer(user.access) })
  t.equal(enrolled.statusCode, 201)
  t.equal(enrolled.headers['cache-control'], 'no-store')
  const { secret, otpauth_url: url, qr_svg: svg } = enrolled.json()
  t.match(secret, /^[A-Z2-7]{32}$/, '160 bits of base32')
  t.match(url, /^otpauth:\/\/totp\/Portcullis:user\d+%40example\.com\?/)
  t.match(url, `secret=${secret}`)
  t.match(svg, /^<svg[\s\S]*<\/svg>\s*$/)
  const stored = await app.repositories.mfa.findTotp(user.id)
  t.match(stored?.secret, /^enc:v1:/, 'stored sealed')
  t.notMatch(stored?.secret, secret, 'never in plain text')

  const pending = await app.inject({ method: 'GET', url: '/api/auth/mfa', headers: bearer(user.access) })
  t.same(pending.json(), { totp: false, passkeys: [], recovery_codes_left: 0 }, 'a pending factor is no factor')
  const stillOneStep = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
  t.type(stillOneStep.json().access, 'string', 'logins do not ask for a pending factor')

  const wrong = await app.inject({ method: 'POST', url: '/api/auth/mfa/totp/confirm', headers: bearer(user.access), payload: { code: totpCode(secret, new Date(clock.now().getTime() - 3 * STEP_MS)) } })
  t.equal(wrong.statusCode, 400)
  t.equal(wrong.json().code, 'invalid_mfa_code')
  const notDigits = await app.inject({ method: 'POST', url: '/api/auth/mfa/totp/confirm', headers: bearer(user.access), payload: { code: 'abcdef' } })
  t.equal(notDigits.json().code, 'invalid_mfa_code')

  const confirmed = await app.inject({ method: 'POST', url: '/api/auth/mfa/totp/confirm', headers: bearer(user.access), payload: { code: totpCode(secret, clock.now()) } })
  t.equal(confirmed.statusCode, 200)
  const codes: string[] = confirmed.json().recovery_codes
  t.equal(codes.length, 10)
  t.equal(new Set(codes).size, 10)
  for (const code of codes) t.match(code, /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/)
  const status = await app.inject({ method: 'GET', url: '/api/auth/mfa', headers: bearer(user.access) })
  t.same(status.json(), { totp: true, passkeys: [], recovery_codes_left: 10 })

  const again = await app.inject({ method: 'POST', url: '/api/auth/mfa/totp', headers: bearer(user.access) })
  t.equal(again.statusCode, 409)
  t.equal(again.json().code, 'already_enrolled')
  t.equal((await app.repositories.mfa.findTotp(user.id))?.secret, (await app.repositories.mfa.findTotp(user.id))?.secret)
  const reconfirm = await app.inject({ method: 'POST', url: '/api/auth/mfa/totp/confirm', headers: bearer(user.access), payload: { code: totpCode(secret, clock.now()) } })
  t.equal(reconfirm.json().code, 'already_enrolled')
})

t.test('without KEY_ENCRYPTION_KEY there is no TOTP: 503 mfa_unavailable, nothing stored', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await app.inject({ method: 'POST', url: '/api/auth/mfa/totp', headers: bearer(user.access) })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'mfa_unavailable')
  t.equal(await app.repositories.mfa.findTotp(user.id), undefined)
})

t.test('a KEY_ENCRYPTION_KEY that does not open the secrets: 503 mfa_unavailable, never counted as wrong codes', async t => {
  const clock = manualClock()
  const db = await tempDatabase(t)
  const first = await build(t, {}, { now: clock.now, env: { ...MFA_ENV, DATABASE_URL: db.url } })
  const user = await loginUser(first)
  const { secret } = await enrolTotp(first, user.access, clock.now)
  // The enrolment spent this step's code.
  clock.advance(STEP_MS)
  await first.close()
  const other = await build(t, {}, { now: clock.now, env: { DATABASE_URL: db.url, KEY_ENCRYPTION_KEY: 'another-key-of-32-characters-or-more' } })
  const login = await other.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
  t.equal(login.json().mfa_required, true)
  for (let attempt = 0; attempt < 7; attempt++) {
    const res = await other.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: login.json().mfa_token, method: 'totp', code: totpCode(secret, clock.now()) } })
    t.equal(res.statusCode, 503, `attempt ${attempt + 1}: 503, not 429`)
    t.equal(res.json().code, 'mfa_unavailable')
  }
  const stepUp = await other.inject({ method: 'POST', url: '/api/auth/mfa/step-up', headers: bearer(user.access), payload: { method: 'totp', code: '000000' } })
  t.equal(stepUp.statusCode, 503)
  await other.close()
  const restored = await build(t, {}, { now: clock.now, env: { ...MFA_ENV, DATABASE_URL: db.url } })
  const verified = await restored.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: login.json().mfa_token, method: 'totp', code: totpCode(secret, clock.now()) } })
  t.equal(verified.statusCode, 200, 'the right key back: the same mfa_token and a code work, no lockout')
})

t.test('login with TOTP: mfa_required, then a code of the current step ±1, each accepted code once', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now, env: MFA_ENV })
  const user = await loginUser(app)
  const { secret } = await enrolTotp(app, user.access, clock.now)
  clock.advance(10 * STEP_MS)

  async function startLogin () {
    const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
    t.equal(res.statusCode, 200)
    t.equal(res.headers['set-cookie'], undefined, 'no cookie before the second factor')
    t.equal(res.headers['cache-control'], 'no-store')
    return res.json()
  }
  const verify = (mfaToken: string, code: string, method = 'totp') =>
    app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: mfaToken, method, code } })
  const at = (steps: number) => new Date(clock.now().getTime() + steps * STEP_MS)

  const first = await startLogin()
  t.same(Object.keys(first).sort(), ['methods', 'mfa_required', 'mfa_token'])
  t.equal(first.mfa_required, true)
  t.same(first.methods, ['totp', 'recovery_code'])

  const tooOld = await verify(first.mfa_token, totpCode(secret, at(-2)))
  t.equal(tooOld.statusCode, 401)
  t.equal(tooOld.json().code, 'invalid_mfa_code')
  const previousStep = await verify(first.mfa_token, totpCode(secret, at(-1)))
  t.equal(previousStep.statusCode, 200, 'the step before is accepted, and a wrong code did not spend the mfa_token')
  const body = previousStep.json()
  t.match(String(previousStep.headers['set-cookie']), /^refresh_token=/)
  t.equal(previousStep.headers['cache-control'], 'no-store')
  t.equal(body.user.id, user.id)
  const claims = claimsOf(body.access)
  t.same(claims.amr, ['pwd', 'otp', 'mfa'])
  t.equal(claims.acr, 'aal2')

  const reused = await verify(first.mfa_token, totpCode(secret, at(1)))
  t.equal(reused.statusCode, 401)
  t.equal(reused.json().code, 'invalid_mfa_token', 'an mfa_token works once')

  const second = await startLogin()
  const replay = await verify(second.mfa_token, totpCode(secret, at(-1)))
  t.equal(replay.json().code, 'invalid_mfa_code', 'an accepted code is refused the second time')
  const current = await verify(second.mfa_token, totpCode(secret, at(0)))
  t.equal(current.statusCode, 200)

  const third = await startLogin()
  const tooNew = await verify(third.mfa_token, totpCode(secret, at(2)))
  t.equal(tooNew.json().code, 'invalid_mfa_code', 'two steps ahead is refused')
  const nextStep = await verify(third.mfa_token, totpCode(secret, at(1)))
  t.equal(nextStep.statusCode, 200, 'the step after is accepted')
  const olderAfterNewer = await verify((await startLogin()).mfa_token, totpCode(secret, at(0)))
  t.equal(olderAfterNewer.json().code, 'invalid_mfa_code', 'a code older than the last accepted one is refused too')

  // The refreshed token of a session opened with two factors stays aal2.
  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: body.refresh } })
  t.equal(claimsOf(refreshed.json().access).acr, 'aal2')
})

t.test('the mfa_token expires after 5 minutes', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now, env: MFA_ENV })
  const user = await loginUser(app)
  const { secret } = await enrolTotp(app, user.access, clock.now)
  clock.advance(STEP_MS)
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
  clock.advance(5 * 60_000 + 1)
  const late = await app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: login.json().mfa_token, method: 'totp', code: totpCode(secret, clock.now()) } })
  t.equal(late.statusCode, 401)
  t.equal(late.json().code, 'invalid_mfa_token')
  t.match(late.headers['content-type'], 'application/problem+json')
})

t.test('a password changed between the two steps ends the login the old password began', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now, env: MFA_ENV })
  const user = await loginUser(app)
  const { secret } = await enrolTotp(app, user.access, clock.now)
  clock.advance(STEP_MS)
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
  t.equal(login.json().mfa_required, true)
  // Meanwhile the owner, raised with a code, changes the password.
  const raised = await app.inject({ method: 'POST', url: '/api/auth/mfa/step-up', headers: bearer(user.access), payload: { method: 'totp', code: totpCode(secret, clock.now()) } })
  t.equal(raised.statusCode, 200, raised.body)
  const change = await app.inject({ method: 'POST', url: '/api/auth/password/change', headers: bearer(raised.json().access), payload: { current_password: PASSWORD, new_password: 'another good passphrase' } })
  t.equal(change.statusCode, 204, change.body)
  clock.advance(STEP_MS)
  const verify = await app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: login.json().mfa_token, method: 'totp', code: totpCode(secret, clock.now()) } })
  t.equal(verify.statusCode, 401)
  t.equal(verify.json().code, 'invalid_mfa_token')
  t.equal((await app.repositories.sessions.listLive(user.id, clock.now())).length, 1, 'no session from the old password (the changing one stays)')
})

t.test('recovery codes: each works once, regenerating kills the old set, and needs aal2', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now, env: MFA_ENV })
  const user = await loginUser(app)
  const { secret, recoveryCodes } = await enrolTotp(app, user.access, clock.now)
  const login = async () => (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })).json().mfa_token
  const verify = async (code: string) => app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: await login(), method: 'recovery_code', code } })

  const used = await verify(recoveryCodes[0].toUpperCase().replace(/-/g, ' '))
  t.equal(used.statusCode, 200, 'case, spaces and dashes do not matter')
  t.same(claimsOf(used.json().access).amr, ['pwd', 'otp', 'mfa'])
  t.equal((await verify(recoveryCodes[0])).json().code, 'invalid_mfa_code', 'a used code is refused')
  const status = await app.inject({ method: 'GET', url: '/api/auth/mfa', headers: bearer(user.access) })
  t.equal(status.json().recovery_codes_left, 9)

  // The token of the login from before the factor was set up is aal1: the sensitive operations refuse it.
  for (const [method, url] of [['POST', '/api/auth/mfa/recovery-codes'], ['DELETE', '/api/auth/mfa/totp']] as const) {
    const refused = await app.inject({ method, url, headers: bearer(user.access) })
    t.equal(refused.statusCode, 401, `${method} ${url}`)
    t.equal(refused.json().code, 'step_up_required')
    t.equal(refused.headers['www-authenticate'], 'Bearer realm="portcullis", error="insufficient_user_authentication", error_description="A second factor is required", acr_values="aal2"')
  }
  const change = await app.inject({ method: 'POST', url: '/api/auth/password/change', headers: bearer(user.access), payload: { current_password: PASSWORD, new_password: 'another good passphrase' } })
  t.equal(change.json().code, 'step_up_required', 'a password change too')

  const wrongStepUp = await app.inject({ method: 'POST', url: '/api/auth/mfa/step-up', headers: bearer(user.access), payload: { method: 'totp', code: '000000' } })
  t.equal(wrongStepUp.statusCode, 401)
  t.equal(wrongStepUp.json().code, 'invalid_mfa_code')
  clock.advance(STEP_MS)
  const raised = await app.inject({ method: 'POST', url: '/api/auth/mfa/step-up', headers: bearer(user.access), payload: { method: 'totp', code: totpCode(secret, clock.now()) } })
  t.equal(raised.statusCode, 200)
  t.same(Object.keys(raised.json()).sort(), ['access', 'expires_in', 'token_type'])
  const raisedClaims = claimsOf(raised.json().access)
  t.equal(raisedClaims.acr, 'aal2')
  t.equal(raisedClaims.sid, claimsOf(user.access).sid, 'the same session')

  const regenerated = await app.inject({ method: 'POST', url: '/api/auth/mfa/recovery-codes', headers: bearer(raised.json().access) })
  t.equal(regenerated.statusCode, 200)
  const fresh: string[] = regenerated.json().recovery_codes
  t.equal(fresh.length, 10)
  t.equal((await verify(recoveryCodes[1])).json().code, 'invalid_mfa_code', 'the old set is dead')
  t.equal((await verify(fresh[0])).statusCode, 200)

  const removed = await app.inject({ method: 'DELETE', url: '/api/auth/mfa/totp', headers: bearer(raised.json().access) })
  t.equal(removed.statusCode, 204)
  const after = await app.inject({ method: 'GET', url: '/api/auth/mfa', headers: bearer(user.access) })
  t.same(after.json(), { totp: false, passkeys: [], recovery_codes_left: 0 })
  const oneStep = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
  t.equal(claimsOf(oneStep.json().access).acr, 'aal1')
  t.same(claimsOf(oneStep.json().access).amr, ['pwd'])
})

t.test('wrong codes count toward RATE_LIMIT_MFA_ACCOUNT: then even the right code is 429', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now, env: { ...MFA_ENV, RATE_LIMIT_MFA_ACCOUNT: '3/5m' } })
  const user = await loginUser(app)
  const { secret } = await enrolTotp(app, user.access, clock.now)
  clock.advance(STEP_MS)
  const { mfa_token: mfaToken } = (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })).json()
  const verify = (code: string) => app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: mfaToken, method: 'totp', code } })
  for (let i = 0; i < 3; i++) t.equal((await verify('000000')).json().code, 'invalid_mfa_code')
  const limited = await verify(totpCode(secret, clock.now()))
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'rate_limited')
  t.ok(Number(limited.headers['retry-after']) > 0)
  const stepUp = await app.inject({ method: 'POST', url: '/api/auth/mfa/step-up', headers: bearer(user.access), payload: { method: 'totp', code: totpCode(secret, clock.now()) } })
  t.equal(stepUp.statusCode, 429, 'the step-up shares the limit')
  clock.advance(5 * 60_000)
  const { mfa_token: later } = (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })).json()
  const ok = await app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: later, method: 'totp', code: totpCode(secret, clock.now()) } })
  t.equal(ok.statusCode, 200, 'the window ends')
})

t.test('bad input to the MFA routes is a 4xx problem, never a 500', async t => {
  const app = await build(t, {}, { env: MFA_ENV })
  const user = await loginUser(app)
  const cases: Array<[string, string, unknown, number, string]> = [
    ['POST', '/api/auth/mfa/verify', { mfa_token: 'x', method: 'sms', code: '123456' }, 400, 'validation_failed'],
    ['POST', '/api/auth/mfa/verify', { mfa_token: 'x', method: 'totp', code: '123456', extra: 1 }, 400, 'validation_failed'],
    ['POST', '/api/auth/mfa/verify', { mfa_token: 'x', method: 'totp', code: '1'.repeat(65) }, 400, 'validation_failed'],
    ['POST', '/api/auth/mfa/verify', { mfa_token: 'nul\u0000', method: 'totp', code: '123456' }, 401, 'invalid_mfa_token'],
    ['POST', '/api/auth/mfa/verify', { mfa_token: 'unknown', method: 'recovery_code', code: 'abcd' }, 401, 'invalid_mfa_token'],
    ['POST', '/api/auth/mfa/totp/confirm', { code: '123456' }, 400, 'invalid_mfa_code'],
    ['POST', '/api/auth/mfa/totp/confirm', {}, 400, 'validation_failed'],
    ['POST', '/api/auth/mfa/step-up', { method: 'totp', code: '123456' }, 409, 'no_second_factor'],
    ['POST', '/api/auth/mfa/recovery-codes', undefined, 409, 'no_second_factor'],
    ['DELETE', '/api/auth/mfa/totp', undefined, 404, 'not_found']
  ]
  for (const [method, url, payload, status, code] of cases) {
    const res = await app.inject({ method: method as 'POST', url, headers: bearer(user.access), ...(payload !== undefined && { payload: payload as object }) })
    t.equal(res.statusCode, status, `${method} ${url} ${JSON.stringify(payload)}`)
    t.equal(res.json().code, code)
  }
  const anonymous = await app.inject({ method: 'GET', url: '/api/auth/mfa' })
  t.equal(anonymous.statusCode, 401)
})
