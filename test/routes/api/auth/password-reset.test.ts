import t from 'tap'
import { bearer, build, manualClock, newUser, PASSWORD, rawDatabase, testDatabaseUrl } from '../../../helper.js'
import { mailLink, serve, startSmtpServer, type ReceivedMail, type SmtpSink } from '../../../smtp.js'

const RESET_SUBJECT = 'Reset your password'
const VERIFY_SUBJECT = 'Confirm your email address'
const NEW_PASSWORD = 'a brand new passphrase'
const HOUR_MS = 60 * 60 * 1000

const isResetFor = (email: string) => (m: ReceivedMail) => m.to.includes(email) && m.subject === RESET_SUBJECT

type Http = Awaited<ReturnType<typeof serve>>

async function register (http: Http, body = newUser()) {
  const res = await http.post('/api/auth/register', body)
  if (res.status !== 201) throw new Error(`register failed: ${res.status}`)
  return { ...body, id: res.body.user.id as string }
}

async function login (http: Http, email: string, password = PASSWORD) {
  return await http.post('/api/auth/login', { email, password })
}

/** Asks for a reset and returns the mail that follows with its link and token; `after` skips mails already seen. */
async function requestReset (http: Http, smtp: SmtpSink, email: string, after: ReceivedMail[] = []) {
  const res = await http.post('/api/auth/password/reset', { email })
  if (res.status !== 202) throw new Error(`reset failed: ${res.status}`)
  const mail = await smtp.waitForMail(m => isResetFor(email)(m) && !after.includes(m))
  return { mail, ...mailLink(mail) }
}

function confirm (http: Http, token: string, newPassword = NEW_PASSWORD) {
  return http.post('/api/auth/password/reset/confirm', { token, new_password: newPassword })
}

function check (http: Http, token: string) {
  return http.get(`/api/auth/password/reset/confirm?token=${encodeURIComponent(token)}`)
}

t.test('reset answers the same 202 at once for an unknown and an existing address, and mails only the existing one', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url })
  const http = await serve(app)
  const user = await register(http)
  await smtp.waitForMail(m => m.to.includes(user.email) && m.subject === VERIFY_SUBJECT)

  // The answers come while the SMTP server still holds every message: nothing waits for the mail.
  smtp.hold()
  const known = await http.post('/api/auth/password/reset', { email: `  ${user.email.toUpperCase()}  ` })
  const unknown = await http.post('/api/auth/password/reset', { email: 'nobody@example.com' })
  t.equal(smtp.messages.length, 1, 'no reset mail was acknowledged yet')
  smtp.release()
  t.equal(known.status, 202)
  t.equal(unknown.status, 202)
  t.same(known.body, unknown.body, 'identical bodies')
  t.same(Object.keys(known.body), ['detail'])
  t.equal(known.headers.get('content-type'), unknown.headers.get('content-type'))

  const mail = await smtp.waitForMail(isResetFor(user.email))
  t.same(mail.to, [user.email])
  t.equal(mail.subject, RESET_SUBJECT)
  t.match(mail.text, `Hello ${user.username},`)
  t.match(mail.text, 'expires in 1 hour.')
  t.ok(mail.html.length > 0, 'an HTML part')
  const { link, token } = mailLink(mail)
  t.ok(link.startsWith('http://portcullis.test/api/auth/password/reset/confirm?token='), `the default link is PUBLIC_URL's confirm endpoint: ${link}`)
  t.match(token, /^[A-Za-z0-9_-]{22,}$/, 'a base64url token of at least 128 bits')

  await app.close()
  t.equal(smtp.mailsTo('nobody@example.com').length, 0, 'nothing for the unknown address')
  t.same(smtp.mailsTo(user.email).map(m => m.subject).sort(), [RESET_SUBJECT, VERIFY_SUBJECT].sort())
})

t.test('RESET_PASSWORD_URL points the link at a single-page app, keeping its own query', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url }, { env: { RESET_PASSWORD_URL: 'https://app.example/reset?lang=en' } })
  const http = await serve(app)
  const user = await register(http)
  const { link, token } = await requestReset(http, smtp, user.email)
  t.ok(link.startsWith('https://app.example/reset?lang=en&token='), link)
  t.same([...new URL(link).searchParams.keys()], ['lang', 'token'])
  t.equal((await confirm(http, token)).status, 204, 'the app posts the token back')
})

t.test('confirming sets the password, verifies the address and ends every session', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url })
  const http = await serve(app)
  const user = await register(http)
  const first = await login(http, user.email)
  const second = await login(http, user.email)
  t.equal(first.status, 200)
  t.equal(second.status, 200)
  t.equal(first.body.user.email_verified, false)

  const { token } = await requestReset(http, smtp, user.email)
  const res = await confirm(http, token)
  t.equal(res.status, 204)
  t.equal(res.body, undefined, 'no body')

  const old = await login(http, user.email)
  t.equal(old.status, 401, 'the old password no longer works')
  t.equal(old.body.code, 'invalid_credentials')
  const fresh = await login(http, user.email, NEW_PASSWORD)
  t.equal(fresh.status, 200, 'the new one does')
  t.equal(fresh.body.user.email_verified, true, 'following the link verified the address')

  for (const session of [first.body, second.body]) {
    const refreshed = await http.post('/api/auth/token/refresh', { refresh: session.refresh })
    t.equal(refreshed.status, 401, 'the refresh token of an earlier login is revoked')
    t.equal(refreshed.body.code, 'token_not_valid')
    t.equal((await http.get('/api/auth/me', bearer(session.access))).status, 401, 'its access token no longer authenticates')
  }
  t.equal((await http.get('/api/auth/me', bearer(fresh.body.access))).status, 200, 'the login after the reset works')

  const again = await confirm(http, token, 'yet another passphrase')
  t.equal(again.status, 400, 'the token works once')
  t.equal(again.headers.get('content-type'), 'application/problem+json; charset=utf-8')
  t.equal(again.body.code, 'invalid_token')
  t.equal((await login(http, user.email, 'yet another passphrase')).status, 401, 'the first reset stands')
  t.equal((await http.get('/api/auth/me', bearer(fresh.body.access))).status, 200, 'and a refused reuse ends no session')
})

t.test('of two simultaneous confirmations with one token, exactly one sets its password', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url })
  const http = await serve(app)
  const user = await register(http)
  const { token } = await requestReset(http, smtp, user.email)
  const [first, second] = await Promise.all([confirm(http, token, 'first new passphrase'), confirm(http, token, 'second new passphrase')])
  t.same([first.status, second.status].sort(), [204, 400])
  const loser = first.status === 400 ? first : second
  t.equal(loser.body.code, 'invalid_token')
  const winner = first.status === 204 ? 'first new passphrase' : 'second new passphrase'
  const other = first.status === 204 ? 'second new passphrase' : 'first new passphrase'
  t.equal((await login(http, user.email, winner)).status, 200, 'the winner\'s password is set')
  t.equal((await login(http, user.email, other)).status, 401, 'the loser\'s is not')
})

t.test('GET …/confirm?token= and a refused new password leave the token usable', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url })
  const http = await serve(app)
  const user = await register(http)
  const { link, token } = await requestReset(http, smtp, user.email)

  for (let i = 0; i < 2; i++) {
    const live = await http.follow(link)
    t.equal(live.status, 200, 'a live token is 200, however often it is checked')
    t.same(Object.keys(live.body), ['detail'])
  }
  const unknown = await check(http, 'no-such-token-at-all-0123456789')
  t.equal(unknown.status, 400)
  t.equal(unknown.body.code, 'invalid_token')

  for (const weak of ['short', '1234567890123', user.email]) {
    const res = await confirm(http, token, weak)
    t.equal(res.status, 400, `refused: ${weak}`)
    t.equal(res.body.code, 'validation_failed')
    t.ok(res.body.errors.some((e: { field: string }) => e.field === 'new_password'), 'the error names new_password')
  }
  t.equal((await login(http, user.email)).status, 200, 'the password is unchanged')
  t.equal((await check(http, token)).status, 200, 'the token is still live')

  t.equal((await confirm(http, token)).status, 204, 'and still sets a good password')
  t.equal((await login(http, user.email, NEW_PASSWORD)).status, 200)
  const used = await http.follow(link)
  t.equal(used.status, 400, 'a used token checks as invalid')
  t.equal(used.body.code, 'invalid_token')
})

t.test('a reset token works until its hour is up, then is 400 invalid_token', async t => {
  const clock = manualClock()
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url }, { now: clock.now })
  const http = await serve(app)
  const early = await register(http)
  const late = await register(http)
  const forEarly = await requestReset(http, smtp, early.email)
  const forLate = await requestReset(http, smtp, late.email)

  clock.advance(HOUR_MS - 1000)
  t.equal((await confirm(http, forEarly.token)).status, 204, 'a second before the end it works')
  t.equal((await login(http, early.email, NEW_PASSWORD)).status, 200)

  clock.advance(1000)
  const checked = await check(http, forLate.token)
  t.equal(checked.status, 400)
  t.equal(checked.body.code, 'invalid_token')
  const res = await confirm(http, forLate.token)
  t.equal(res.status, 400)
  t.equal(res.body.code, 'invalid_token')
  t.equal((await login(http, late.email)).status, 200, 'the password is unchanged')
})

t.test('PASSWORD_RESET_TTL is configurable, and the mail says how long the link works', async t => {
  const clock = manualClock()
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url }, { now: clock.now, env: { PASSWORD_RESET_TTL: '30m' } })
  const http = await serve(app)
  const user = await register(http)
  const { mail, token } = await requestReset(http, smtp, user.email)
  t.match(mail.text, 'expires in 30 minutes.')
  clock.advance(30 * 60 * 1000)
  t.equal((await confirm(http, token)).body.code, 'invalid_token')
})

t.test('a newer reset token invalidates the older one', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url })
  const http = await serve(app)
  const user = await register(http)
  const older = await requestReset(http, smtp, user.email)
  const newer = await requestReset(http, smtp, user.email, [older.mail])
  t.not(newer.token, older.token)

  const res = await confirm(http, older.token)
  t.equal(res.status, 400, 'the older link is dead')
  t.equal(res.body.code, 'invalid_token')
  t.equal((await confirm(http, newer.token)).status, 204, 'the newer one works')
})

t.test('user A\'s reset token changes only user A, verifies no address, and leaves A\'s verification link alone', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url })
  const http = await serve(app)
  const a = await register(http)
  const b = await register(http)
  const bSession = await login(http, b.email)
  const verification = mailLink(await smtp.waitForMail(m => m.to.includes(a.email) && m.subject === VERIFY_SUBJECT))
  const reset = await requestReset(http, smtp, a.email)

  for (const res of [
    await http.post('/api/auth/verify-email', { token: reset.token }),
    await http.get(`/api/auth/verify-email?token=${reset.token}`)
  ]) {
    t.equal(res.status, 400, 'a reset token is no verification token')
    t.equal(res.body.code, 'invalid_token')
  }
  t.equal((await login(http, a.email)).body.user.email_verified, false, 'nothing was verified')
  t.equal((await http.follow(verification.link)).status, 200, 'the verification link survived the reset request')

  t.equal((await confirm(http, reset.token)).status, 204, 'the reset link survived both')
  t.equal((await login(http, a.email, NEW_PASSWORD)).status, 200, 'A has the new password')
  const bLogin = await login(http, b.email)
  t.equal(bLogin.status, 200, 'B keeps the old one')
  t.equal(bLogin.body.user.email_verified, false, 'B is not verified')
  t.equal((await login(http, b.email, NEW_PASSWORD)).status, 401)
  t.equal((await http.post('/api/auth/token/refresh', { refresh: bSession.body.refresh })).status, 200, 'B\'s session is alive')
})

t.test('a banned or inactive account gets no reset mail, and the same 202', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url })
  const http = await serve(app)
  const banned = await register(http)
  const inactive = await register(http)
  const banEnded = await register(http)
  await app.repositories.users.update(banned.id, { isBanned: true, banReason: 'spam' })
  await app.repositories.users.update(inactive.id, { isActive: false })
  await app.repositories.users.update(banEnded.id, { isBanned: true, bannedUntil: new Date(Date.now() - 60_000) })

  const answers = await Promise.all([banned, inactive, banEnded, { email: 'nobody@example.com' }]
    .map(u => http.post('/api/auth/password/reset', { email: u.email })))
  for (const res of answers) {
    t.equal(res.status, 202)
    t.same(res.body, answers[0].body)
  }
  await smtp.waitForMail(isResetFor(banEnded.email))

  await app.close()
  t.equal(smtp.messages.filter(m => m.subject === RESET_SUBJECT).length, 1, 'only the account whose ban ended got one')
  t.equal(smtp.messages.filter(isResetFor(banned.email)).length, 0)
  t.equal(smtp.messages.filter(isResetFor(inactive.email)).length, 0)
})

t.test('only a hash of the reset token is stored', async t => {
  const databaseUrl = await testDatabaseUrl(t)
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url }, { env: { DATABASE_URL: databaseUrl } })
  const http = await serve(app)
  const user = await register(http)
  const { token } = await requestReset(http, smtp, user.email)

  const db = rawDatabase(t, databaseUrl)
  const rows = await db.query<Record<string, unknown>>('SELECT * FROM one_time_tokens WHERE user_id = ? AND purpose = ?', user.id, 'reset_password')
  t.equal(rows.length, 1)
  t.match(rows[0].token_hash, /^[0-9a-f]{64}$/, 'a SHA-256 hex digest')
  t.not(rows[0].token_hash, token)
  t.notOk(JSON.stringify(await db.query('SELECT * FROM one_time_tokens')).includes(token), 'no column of any row holds the token')
  t.equal(rows[0].expires_at as number - (rows[0].created_at as number), HOUR_MS)
  t.equal(rows[0].used_at, null)

  t.equal((await confirm(http, token)).status, 204)
  const [used] = await db.query<{ used_at: number | null }>('SELECT used_at FROM one_time_tokens WHERE id = ?', rows[0].id)
  t.type(used.used_at, 'number', 'the token is marked used')
})

t.test('with the SMTP server down reset answers 202 all the same', async t => {
  const smtp = await startSmtpServer(t)
  await smtp.close()
  const app = await build(t, { smtpUrl: smtp.url, mailRetryDelays: [5, 5] })
  const http = await serve(app)
  const user = await register(http)
  const known = await http.post('/api/auth/password/reset', { email: user.email })
  const unknown = await http.post('/api/auth/password/reset', { email: 'nobody@example.com' })
  t.equal(known.status, 202)
  t.same(known.body, unknown.body)
  await app.close()
  t.equal(smtp.messages.length, 0)
})
