import t from 'tap'
import { Writable } from 'node:stream'
import { loggerOptions } from '../../../../src/logger.js'
import { appDatabaseUrl, build, buildAppFor, newUser, testConfig, PASSWORD } from '../../../helper.js'
import { mailLink, serve, startSmtpServer, type ReceivedMail } from '../../../smtp.js'

const VERIFY_SUBJECT = 'Confirm your email address'
const SIGNUP_ATTEMPT_SUBJECT = 'Someone tried to sign up with your email address'

const isVerificationFor = (email: string) => (m: ReceivedMail) => m.to.includes(email) && m.subject === VERIFY_SUBJECT

t.test('register mails a verification link, in a text and an HTML part, that verifies the address', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url, mailFrom: 'Portcullis <accounts@portcullis.test>' })
  const http = await serve(app)
  const user = newUser()

  const res = await http.post('/api/auth/register', user)
  t.equal(res.status, 201)
  t.equal(res.body.user.email_verified, false)

  const mail = await smtp.waitForMail(isVerificationFor(user.email))
  t.same(mail.to, [user.email])
  t.same(mail.from, { name: 'Portcullis', address: 'accounts@portcullis.test' })
  t.equal(mail.subject, VERIFY_SUBJECT)
  t.ok(mail.text.length > 0, 'a text part')
  t.ok(mail.html.length > 0, 'an HTML part')
  t.match(mail.text, `Hello ${user.username},`)
  t.match(mail.text, 'expires in 48 hours')
  const { link, token } = mailLink(mail)
  t.ok(link.startsWith('http://portcullis.test/api/auth/verify-email?token='), `the default link is PUBLIC_URL's verify-email endpoint: ${link}`)
  t.match(token, /^[A-Za-z0-9_-]{22,}$/, 'a base64url token of at least 128 bits')

  const unverified = await http.post('/api/auth/login', { email: user.email, password: PASSWORD })
  t.equal(unverified.status, 200, 'without REQUIRE_EMAIL_VERIFICATION an unverified account logs in')
  t.equal(unverified.body.user.email_verified, false)

  const verified = await http.follow(link)
  t.equal(verified.status, 200)
  t.equal(verified.body.user.id, res.body.user.id)
  t.equal(verified.body.user.email_verified, true)
  t.type(verified.body.detail, 'string')
})

t.test('VERIFY_EMAIL_URL points the link at a single-page app, keeping its own query', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url }, { env: { VERIFY_EMAIL_URL: 'https://app.example/verify?lang=en' } })
  const http = await serve(app)
  const user = newUser()
  t.equal((await http.post('/api/auth/register', user)).status, 201)

  const { link, token } = mailLink(await smtp.waitForMail(isVerificationFor(user.email)))
  t.ok(link.startsWith('https://app.example/verify?lang=en&token='), link)
  const url = new URL(link)
  t.equal(url.searchParams.get('lang'), 'en')
  t.same([...url.searchParams.keys()], ['lang', 'token'])

  // What the single-page app does with it.
  const verified = await http.post('/api/auth/verify-email', { token })
  t.equal(verified.status, 200)
  t.equal(verified.body.user.email, user.email)
  t.equal(verified.body.user.email_verified, true)
})

t.test('registering an address that is taken answers 409 and mails nothing by default', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url })
  const http = await serve(app)
  const owner = newUser()
  t.equal((await http.post('/api/auth/register', owner)).status, 201)
  const again = await http.post('/api/auth/register', newUser({ email: owner.email }))
  t.equal(again.status, 409)
  t.equal(again.body.code, 'email_taken')

  await app.close()
  t.same(smtp.mailsTo(owner.email).map(m => m.subject), [VERIFY_SUBJECT], 'only the first registration mailed')
})

t.test('REGISTRATION_ENUMERATION_SAFE: a taken address answers like a new one and mails its owner instead', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url, registrationEnumerationSafe: true })
  const http = await serve(app)

  const owner = newUser()
  const first = await http.post('/api/auth/register', owner)
  t.equal(first.status, 201)
  await smtp.waitForMail(isVerificationFor(owner.email))

  const stranger = newUser()
  const fresh = await http.post('/api/auth/register', stranger)
  const intruder = newUser({ email: owner.email.toUpperCase(), password: 'another good password' })
  const taken = await http.post('/api/auth/register', intruder)

  t.equal(taken.status, 201, 'the same status as a new registration')
  t.equal(taken.status, fresh.status)
  t.equal(taken.headers.get('content-type'), fresh.headers.get('content-type'))
  t.same(Object.keys(taken.body).sort(), Object.keys(fresh.body).sort(), 'the same body fields')
  t.same(Object.keys(taken.body.user).sort(), Object.keys(fresh.body.user).sort(), 'the same user fields')
  t.equal(taken.body.detail, fresh.body.detail)
  t.notOk('access' in taken.body || 'refresh' in taken.body, 'no tokens')
  t.equal(taken.headers.get('set-cookie'), null)
  t.equal(taken.body.user.email, owner.email)
  t.equal(taken.body.user.username, intruder.username)
  t.equal(taken.body.user.email_verified, false)
  t.equal(taken.body.user.last_login, null)
  t.not(taken.body.user.id, first.body.user.id, 'the owner\'s id is not revealed')

  t.equal(await app.repositories.users.findByUsername(intruder.username), undefined, 'no user was created')
  t.equal((await app.repositories.users.findByEmail(owner.email))?.id, first.body.user.id, 'the owner is untouched')
  const login = await http.post('/api/auth/login', { email: owner.email, password: intruder.password })
  t.equal(login.status, 401, 'the intruder\'s password does not open the account')
  t.equal((await http.post('/api/auth/login', { email: owner.email, password: PASSWORD })).status, 200, 'the owner\'s still does')

  const notice = await smtp.waitForMail(m => m.to.includes(owner.email) && m.subject === SIGNUP_ATTEMPT_SUBJECT)
  t.match(notice.text, `Hello ${owner.username},`)
  t.ok(notice.html.length > 0, 'the notice has an HTML part too')
  t.notMatch(notice.text, /token=/, 'the notice carries no link with a token')
  t.notMatch(notice.text, intruder.username, 'nor what the intruder typed')

  await app.close()
  t.same(smtp.mailsTo(owner.email).map(m => m.subject).sort(), [VERIFY_SUBJECT, SIGNUP_ATTEMPT_SUBJECT].sort(),
    'the owner got the notice and no second verification mail')
  t.same(smtp.mailsTo(stranger.email).map(m => m.subject), [VERIFY_SUBJECT], 'a new address still gets its verification mail')
})

t.test('REGISTRATION_ENUMERATION_SAFE still refuses a weak password for a taken address, like for a new one', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url, registrationEnumerationSafe: true })
  const http = await serve(app)
  const owner = newUser()
  t.equal((await http.post('/api/auth/register', owner)).status, 201)

  const taken = await http.post('/api/auth/register', newUser({ email: owner.email, password: '12345678901' }))
  const fresh = await http.post('/api/auth/register', newUser({ password: '12345678901' }))
  t.equal(taken.status, 400)
  t.equal(taken.body.code, 'validation_failed')
  t.same(taken.body, fresh.body)

  await app.close()
  t.same(smtp.mailsTo(owner.email).map(m => m.subject), [VERIFY_SUBJECT], 'a refused attempt mails nobody')
})

t.test('REQUIRE_EMAIL_VERIFICATION: an unverified account gets 403 email_not_verified after the right password, and logs in once verified', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url, requireEmailVerification: true })
  const http = await serve(app)
  const user = newUser()
  t.equal((await http.post('/api/auth/register', user)).status, 201)

  const wrong = await http.post('/api/auth/login', { email: user.email, password: 'not the password' })
  t.equal(wrong.status, 401, 'a wrong password is still 401')
  t.equal(wrong.body.code, 'invalid_credentials')

  const refused = await http.post('/api/auth/login', { email: user.email, password: PASSWORD })
  t.equal(refused.status, 403)
  t.equal(refused.body.code, 'email_not_verified')
  t.equal(refused.headers.get('content-type'), 'application/problem+json; charset=utf-8')
  t.equal(refused.headers.get('set-cookie'), null, 'no refresh cookie')
  t.notOk('access' in refused.body || 'refresh' in refused.body, 'no tokens')
  const byUsername = await http.post('/api/auth/login', { username: user.username, password: PASSWORD })
  t.equal(byUsername.status, 403)
  t.equal(byUsername.body.code, 'email_not_verified')
  t.same(await app.repositories.sessions.listLive((await app.repositories.users.findByEmail(user.email))!.id, new Date()), [], 'no session was opened')

  const { link } = mailLink(await smtp.waitForMail(isVerificationFor(user.email)))
  t.equal((await http.follow(link)).status, 200)

  const login = await http.post('/api/auth/login', { email: user.email, password: PASSWORD })
  t.equal(login.status, 200)
  t.equal(login.body.user.email_verified, true)
  t.type(login.body.access, 'string')
  t.match(login.headers.get('set-cookie'), /^refresh_token=/)
})

t.test('with the SMTP server down registration answers 201 all the same', async t => {
  const smtp = await startSmtpServer(t)
  await smtp.close()
  const app = await build(t, { smtpUrl: smtp.url, mailRetryDelays: [5, 5] })
  const http = await serve(app)
  const user = newUser()
  const res = await http.post('/api/auth/register', user)
  t.equal(res.status, 201)
  t.equal(res.body.user.email, user.email)
  t.ok(await app.repositories.users.findByEmail(user.email), 'the account exists')
  const login = await http.post('/api/auth/login', { email: user.email, password: PASSWORD })
  t.equal(login.status, 200)
  await app.close()
  t.equal(smtp.messages.length, 0)
})

t.test('registration does not wait for the mail: it answers while the SMTP server still holds the message', async t => {
  const smtp = await startSmtpServer(t)
  const app = await build(t, { smtpUrl: smtp.url })
  const http = await serve(app)
  smtp.hold()
  const user = newUser()
  const res = await http.post('/api/auth/register', user)
  t.equal(res.status, 201)
  t.equal(smtp.messages.length, 0, 'nothing was acknowledged yet')
  smtp.release()
  const { link } = mailLink(await smtp.waitForMail(isVerificationFor(user.email)))
  t.equal((await http.follow(link)).status, 200)
})

t.test('without SMTP_URL the verification mail is written to the log, readable, with a working link', async t => {
  const lines: Array<Record<string, any>> = []
  const stream = new Writable({
    write (chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)))
      done()
    }
  })
  const app = await buildAppFor(t, testConfig({ databaseUrl: await appDatabaseUrl(t) }), { logger: { ...loggerOptions('info'), stream } })
  await app.ready()
  t.ok(lines.some(l => l.level === 40 && /SMTP_URL is not set/.test(l.msg)), 'a warning that mail goes to the log')

  const user = newUser()
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: user })
  t.equal(res.statusCode, 201)
  await app.background.drain()
  const logged = lines.find(l => l.mail !== undefined)
  t.ok(logged, 'the mail was logged')
  t.equal(logged?.msg, `mail (console backend): ${VERIFY_SUBJECT}`)
  t.equal(logged?.mail.to, user.email)
  t.equal(logged?.mail.subject, VERIFY_SUBJECT)
  const link = /https?:\/\/\S+/.exec(logged?.mail.text)?.[0] ?? ''
  t.ok(link.startsWith('http://portcullis.test/api/auth/verify-email?token='), `the text carries the link: ${link}`)
  const url = new URL(link)
  const verified = await app.inject({ url: url.pathname + url.search })
  t.equal(verified.statusCode, 200)
  t.equal(verified.json().user.email_verified, true)
  const token = url.searchParams.get('token') as string
  t.same(lines.filter(l => JSON.stringify(l).includes(token)), [logged], 'the token is in the mail line only, not in the request log')
  t.notOk(JSON.stringify(lines).includes(user.password), 'the password is not logged')
})
