import t from 'tap'
import { build, manualClock, newUser, PASSWORD, rawDatabase, testDatabaseUrl } from '../../../helper.js'
import { mailLink, serve, startSmtpServer, type ReceivedMail, type SmtpSink } from '../../../smtp.js'

const VERIFY_SUBJECT = 'Confirm your email address'
const HOUR_MS = 60 * 60 * 1000

const isVerificationFor = (email: string) => (m: ReceivedMail) => m.to.includes(email) && m.subject === VERIFY_SUBJECT

type Http = Awaited<ReturnType<typeof serve>>

/** Registers over HTTP and returns the user with the token from the verification mail that follows. */
async function registerAndReceive (http: Http, smtp: SmtpSink, body = newUser()) {
  const res = await http.post('/api/auth/register', body)
  if (res.status !== 201) throw new Error(`register failed: ${res.status}`)
  const mail = await smtp.waitForMail(isVerificationFor(body.email))
  return { ...body, id: res.body.user.id as string, mail, ...mailLink(mail) }
}

async function isVerified (http: Http, email: string): Promise<boolean> {
  const login = await http.post('/api/auth/login', { email, password: PASSWORD })
  if (login.status !== 200) throw new Error(`login failed: ${login.status}`)
  return login.body.user.email_verified
}

t.test('GET with the link from the mail verifies the address once: 200 {user, detail}, then 400 invalid_token', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url })
  const http = await serve(app)
  const user = await registerAndReceive(http, smtp)
  t.match(user.token, /^[A-Za-z0-9_-]{22,}$/, 'a base64url token of at least 128 bits')

  // Mail clients and link trackers add their own query parameters.
  const res = await http.follow(`${user.link}&utm_source=newsletter`)
  t.equal(res.status, 200)
  t.same(Object.keys(res.body).sort(), ['detail', 'user'])
  t.equal(res.body.user.id, user.id)
  t.equal(res.body.user.email, user.email)
  t.equal(res.body.user.email_verified, true)
  t.match(res.body.detail, /verified/)
  t.equal(res.headers.get('cache-control'), 'no-store', 'the URL carried a token: nothing may cache the answer')
  t.equal(res.headers.get('referrer-policy'), 'no-referrer', 'nor may a next page see the URL as its Referer')
  t.ok(await isVerified(http, user.email), 'the account is verified')

  for (const again of [await http.follow(user.link), await http.post('/api/auth/verify-email', { token: user.token })]) {
    t.equal(again.status, 400, 'a used token is refused')
    t.equal(again.headers.get('content-type'), 'application/problem+json; charset=utf-8')
    t.equal(again.body.code, 'invalid_token')
  }
  t.equal((await http.follow(user.link)).headers.get('cache-control'), 'no-store', 'the refusal too')
})

t.test('POST {token} verifies the address; an unknown token is 400 invalid_token and changes nothing', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url })
  const http = await serve(app)
  const user = await registerAndReceive(http, smtp)

  const forged = user.token.slice(0, -1) + (user.token.endsWith('A') ? 'B' : 'A')
  for (const res of [
    await http.get(`/api/auth/verify-email?token=${forged}`),
    await http.post('/api/auth/verify-email', { token: forged }),
    await http.post('/api/auth/verify-email', { token: 'x' })
  ]) {
    t.equal(res.status, 400)
    t.equal(res.body.code, 'invalid_token')
  }
  t.notOk(await isVerified(http, user.email))

  const res = await http.post('/api/auth/verify-email', { token: user.token })
  t.equal(res.status, 200)
  t.equal(res.body.user.id, user.id)
  t.equal(res.body.user.email_verified, true)
  t.type(res.body.detail, 'string')
  t.ok(await isVerified(http, user.email))
  t.equal((await http.post('/api/auth/verify-email', { token: user.token })).body.code, 'invalid_token', 'and only once')
})

t.test('of two simultaneous uses of one token, exactly one succeeds', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url })
  const http = await serve(app)
  const user = await registerAndReceive(http, smtp)
  const answers = await Promise.all([
    http.post('/api/auth/verify-email', { token: user.token }),
    http.post('/api/auth/verify-email', { token: user.token }),
    http.follow(user.link)
  ])
  t.same(answers.map(a => a.status).sort(), [200, 400, 400])
  t.same(answers.filter(a => a.status === 400).map(a => a.body.code), ['invalid_token', 'invalid_token'])
})

t.test('a verification token works until its 48 hours are up, then is 400 invalid_token', async t => {
  const clock = manualClock()
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url }, { now: clock.now })
  const http = await serve(app)
  const early = await registerAndReceive(http, smtp)
  const late = await registerAndReceive(http, smtp)
  t.match(late.mail.text, 'expires in 48 hours')

  clock.advance(48 * HOUR_MS - 1000)
  t.equal((await http.follow(early.link)).status, 200, 'a second before the end it works')

  clock.advance(1000)
  const expired = await http.follow(late.link)
  t.equal(expired.status, 400)
  t.equal(expired.body.code, 'invalid_token')
  t.equal((await http.post('/api/auth/verify-email', { token: late.token })).body.code, 'invalid_token')
  t.notOk(await isVerified(http, late.email))

  // A fresh link, asked for after the old one expired, works.
  t.equal((await http.post('/api/auth/verify-email/resend', { email: late.email })).status, 202)
  const second = mailLink(await smtp.waitForMail(m => isVerificationFor(late.email)(m) && m !== late.mail))
  t.equal((await http.follow(second.link)).status, 200)
})

t.test('VERIFY_EMAIL_TTL is configurable, and the mail says how long the link works', async t => {
  const clock = manualClock()
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url }, { now: clock.now, env: { VERIFY_EMAIL_TTL: '1h' } })
  const http = await serve(app)
  const user = await registerAndReceive(http, smtp)
  t.match(user.mail.text, 'expires in 1 hour.')
  t.match(user.mail.html, 'expires in 1 hour.')
  clock.advance(HOUR_MS + 1)
  const res = await http.follow(user.link)
  t.equal(res.status, 400)
  t.equal(res.body.code, 'invalid_token')
})

t.test('a newer verification token invalidates the older one', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url })
  const http = await serve(app)
  const user = await registerAndReceive(http, smtp)

  t.equal((await http.post('/api/auth/verify-email/resend', { email: user.email })).status, 202)
  const newer = mailLink(await smtp.waitForMail(m => isVerificationFor(user.email)(m) && m !== user.mail))
  t.not(newer.token, user.token)

  const old = await http.follow(user.link)
  t.equal(old.status, 400, 'the older link is dead')
  t.equal(old.body.code, 'invalid_token')
  t.equal((await http.follow(newer.link)).status, 200, 'the newer one works')
})

t.test('resend answers the same 202 for an unverified, a verified and an unknown address, and mails only the unverified one', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url })
  const http = await serve(app)
  const unverified = await registerAndReceive(http, smtp)
  const verified = await registerAndReceive(http, smtp)
  t.equal((await http.follow(verified.link)).status, 200)

  const answers = [
    await http.post('/api/auth/verify-email/resend', { email: `  ${unverified.email.toUpperCase()} ` }),
    await http.post('/api/auth/verify-email/resend', { email: verified.email }),
    await http.post('/api/auth/verify-email/resend', { email: 'nobody@example.com' })
  ]
  for (const res of answers) {
    t.equal(res.status, 202)
    t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
    t.same(res.body, answers[0].body, 'the same body')
  }
  t.same(Object.keys(answers[0].body), ['detail'])

  await app.close()
  t.equal(smtp.mailsTo(unverified.email).length, 2, 'the unverified address (typed in another case, with spaces) got a new link')
  t.equal(smtp.mailsTo(verified.email).length, 1, 'a verified account is sent nothing')
  t.equal(smtp.mailsTo('nobody@example.com').length, 0, 'an unknown address is sent nothing')
})

t.test('user A\'s verification token verifies only user A, and resets no password', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url })
  const http = await serve(app)
  const a = await registerAndReceive(http, smtp)
  const b = await registerAndReceive(http, smtp)

  const check = await http.get(`/api/auth/password/reset/confirm?token=${a.token}`)
  t.equal(check.status, 400)
  t.equal(check.body.code, 'invalid_token')
  const reset = await http.post('/api/auth/password/reset/confirm', { token: a.token, new_password: 'a brand new password' })
  t.equal(reset.status, 400)
  t.equal(reset.body.code, 'invalid_token')
  t.equal((await http.post('/api/auth/login', { email: a.email, password: 'a brand new password' })).status, 401, 'the password is unchanged')
  t.notOk(await isVerified(http, a.email), 'and nothing was verified')

  const res = await http.post('/api/auth/verify-email', { token: a.token })
  t.equal(res.status, 200, 'the token was not used up by the reset attempts')
  t.equal(res.body.user.id, a.id)
  t.ok(await isVerified(http, a.email))
  t.notOk(await isVerified(http, b.email), 'B is still unverified')

  const forB = await http.post('/api/auth/verify-email', { token: b.token })
  t.equal(forB.status, 200, 'B\'s own token still works')
  t.equal(forB.body.user.id, b.id)
})

t.test('only a hash of the token is stored', async t => {
  const databaseUrl = await testDatabaseUrl(t)
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url }, { env: { DATABASE_URL: databaseUrl } })
  const http = await serve(app)
  const user = await registerAndReceive(http, smtp)

  const db = rawDatabase(t, databaseUrl)
  const rows = await db.query<Record<string, unknown>>('SELECT * FROM one_time_tokens WHERE user_id = ?', user.id)
  t.equal(rows.length, 1)
  t.equal(rows[0].purpose, 'verify_email')
  t.match(rows[0].token_hash, /^[0-9a-f]{64}$/, 'a SHA-256 hex digest')
  t.not(rows[0].token_hash, user.token)
  t.notOk(Object.values(rows[0]).some(value => String(value).includes(user.token)), 'no column holds the token')
  const everything = await db.query('SELECT * FROM one_time_tokens')
  t.notOk(JSON.stringify(everything).includes(user.token))
  t.equal(rows[0].expires_at as number - (rows[0].created_at as number), 48 * HOUR_MS)
})

t.test('with the SMTP server down resend answers 202 all the same', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url, mailRetryDelays: [5, 5] })
  const http = await serve(app)
  const user = await registerAndReceive(http, smtp)
  await smtp.close()
  const down = await http.post('/api/auth/verify-email/resend', { email: user.email })
  t.equal(down.status, 202)
  t.same(down.body, (await http.post('/api/auth/verify-email/resend', { email: 'nobody@example.com' })).body, 'the usual answer')
  await app.close()
  t.equal(smtp.mailsTo(user.email).length, 1, 'only the mail sent while the server was up arrived')
})
