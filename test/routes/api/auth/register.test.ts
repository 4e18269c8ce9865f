import t from 'tap'
import bcrypt from 'bcryptjs'
import type { FastifyInstance } from 'fastify'
import { build, newUser, registerUser, PASSWORD } from '../../../helper.js'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const USER_FIELDS = [
  'date_joined', 'email', 'email_verified', 'groups', 'id', 'is_active', 'is_staff', 'is_superuser',
  'last_login', 'permissions', 'providers', 'username'
]

function register (app: FastifyInstance, payload: unknown) {
  return app.inject({ method: 'POST', url: '/api/auth/register', payload: payload as object })
}

/** Asserts a 400 validation_failed problem whose errors name `field`, and returns that field's messages. */
function validationMessages (t: Test, res: Awaited<ReturnType<typeof register>>, field: string): string[] {
  t.equal(res.statusCode, 400, `400 for ${field}`)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  const body = res.json()
  t.equal(body.code, 'validation_failed')
  t.equal(body.status, 400)
  const messages = (body.errors as Array<{ field: string, message: string }>).filter(e => e.field === field).map(e => e.message)
  t.ok(messages.length > 0, `errors name ${field}: ${JSON.stringify(body.errors)}`)
  return messages
}

t.test('register answers 201 with the user and a detail, and nothing else', async t => {
  const app = await build(t)
  const body = newUser()
  const res = await register(app, body)
  t.equal(res.statusCode, 201)
  t.match(res.headers['content-type'], /^application\/json/)
  const json = res.json()
  t.same(Object.keys(json).sort(), ['detail', 'user'])
  t.type(json.detail, 'string')
  t.ok(json.detail.length > 0)
  t.same(Object.keys(json.user).sort(), USER_FIELDS)
  t.type(json.user.id, 'string')
  t.equal(json.user.email, body.email)
  t.equal(json.user.username, body.username)
  t.equal(json.user.email_verified, false)
  t.equal(json.user.is_active, true)
  t.equal(json.user.is_staff, false)
  t.equal(json.user.is_superuser, false)
  t.equal(json.user.last_login, null)
  t.same(json.user.groups, [])
  t.same(json.user.permissions, [])
  t.same(json.user.providers, [])
  t.ok(!Number.isNaN(Date.parse(json.user.date_joined)), 'date_joined is an ISO timestamp')
  t.equal(new Date(json.user.date_joined).toISOString(), json.user.date_joined)
})

t.test('the response carries neither the password nor its hash', async t => {
  const app = await build(t)
  const body = newUser()
  const res = await register(app, body)
  t.equal(res.statusCode, 201)
  const stored = await app.repositories.users.findByEmail(body.email)
  t.ok(stored?.passwordHash)
  t.notMatch(res.body, body.password)
  t.notMatch(res.body, stored!.passwordHash!)
  t.notMatch(res.body, /password|hash|\$2[aby]\$/i)
})

t.test('the stored password is a bcrypt hash at the configured cost, never the password', async t => {
  const app = await build(t)
  const user = await registerUser(app)
  const stored = await app.repositories.users.findByEmail(user.email)
  const hash = stored!.passwordHash!
  t.match(hash, /^\$2[aby]\$04\$.{53}$/, 'bcrypt, cost 4 as BCRYPT_COST says')
  t.not(hash, PASSWORD)
  t.notMatch(hash, PASSWORD)
  t.ok(await bcrypt.compare(PASSWORD, hash), 'the hash is of the password')
  t.notOk(await bcrypt.compare(`${PASSWORD}x`, hash))
})

t.test('the email is trimmed and lower-cased', async t => {
  const app = await build(t)
  const res = await register(app, newUser({ email: ' Ada@Example.COM ', username: 'ada' }))
  t.equal(res.statusCode, 201)
  t.equal(res.json().user.email, 'ada@example.com')
  const stored = await app.repositories.users.findByEmail('ada@example.com')
  t.equal(stored?.id, res.json().user.id)
  t.equal(stored?.email, 'ada@example.com')
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'ada@example.com', password: PASSWORD } })
  t.equal(login.statusCode, 200)
})

t.test('the username keeps its case for display', async t => {
  const app = await build(t)
  const res = await register(app, newUser({ username: 'AdaLovelace' }))
  t.equal(res.statusCode, 201)
  t.equal(res.json().user.username, 'AdaLovelace')
})

t.test('a duplicate email, in any case, is 409 email_taken', async t => {
  const app = await build(t)
  const first = await registerUser(app, newUser({ email: 'grace@example.com' }))
  for (const email of ['grace@example.com', 'GRACE@example.com', ' Grace@Example.Com ']) {
    const res = await register(app, newUser({ email }))
    t.equal(res.statusCode, 409, email)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    const body = res.json()
    t.equal(body.code, 'email_taken')
    t.equal(body.status, 409)
    t.same(body.errors, [{ field: 'email', message: 'is already registered' }])
  }
  t.equal((await app.repositories.users.findByEmail('grace@example.com'))?.id, first.id, 'the first account is untouched')
})

t.test('a duplicate username, in any case or full-width form, is 409 username_taken', async t => {
  const app = await build(t)
  const first = await registerUser(app, newUser({ username: 'Hopper' }))
  for (const username of ['Hopper', 'hopper', 'HOPPER', 'ＨＯＰＰＥＲ']) {
    const body = newUser({ username })
    const res = await register(app, body)
    t.equal(res.statusCode, 409, username)
    t.equal(res.json().code, 'username_taken')
    t.same(res.json().errors, [{ field: 'username', message: 'is already taken' }])
    t.equal(await app.repositories.users.findByEmail(body.email), undefined, 'no second account')
  }
  t.equal((await app.repositories.users.findByUsername('hopper'))?.id, first.id)
})

for (const extra of [{ is_staff: true }, { is_superuser: true }, { email_verified: true }, { is_active: false }, { id: 'chosen-id' }]) {
  const [field] = Object.keys(extra)
  t.test(`a body with ${field} is refused and creates no user (closed schema)`, async t => {
    const app = await build(t)
    const body = { ...newUser(), ...extra }
    const res = await register(app, body)
    const messages = validationMessages(t, res, field)
    t.same(messages, ['is not an allowed field'])
    t.equal(await app.repositories.users.findByEmail(body.email), undefined)
    t.equal(await app.repositories.users.findByUsername(body.username), undefined)
  })
}

t.test('a missing field is named in the errors', async t => {
  const app = await build(t)
  for (const field of ['email', 'username', 'password'] as const) {
    const body: Record<string, string> = newUser()
    delete body[field]
    const res = await register(app, body)
    t.same(validationMessages(t, res, field), ['is required'])
  }
})

const refusedPasswords: Array<[string, (user: { email: string, username: string }) => string, RegExp]> = [
  ['shorter than 8 characters', () => 'abc1234', /at least 8 characters/],
  ['entirely numeric', () => '12345678901', /numeric/],
  ['the email', user => user.email, /email/],
  ['the email in another case', user => user.email.toUpperCase(), /email/],
  ['the username', user => user.username, /username/],
  ['the username in another case', user => user.username.toUpperCase(), /username/],
  ['over 72 bytes (40 × é is 40 characters but 80 bytes)', () => 'é'.repeat(40), /72 bytes/],
  ['73 ASCII bytes', () => 'a'.repeat(73), /72 bytes/]
]

for (const [name, password, message] of refusedPasswords) {
  t.test(`a password ${name} is refused on field password and creates no user`, async t => {
    const app = await build(t)
    const user = newUser({ email: 'long.enough.name@example.com', username: 'long_enough_name' })
    const res = await register(app, { ...user, password: password(user) })
    const messages = validationMessages(t, res, 'password')
    t.ok(messages.some(m => message.test(m)), `${JSON.stringify(messages)} matches ${message}`)
    t.match(res.json().detail, message)
    t.equal(await app.repositories.users.findByEmail(user.email), undefined)
  })
}

t.test('a password of exactly 72 bytes is accepted and logs in', async t => {
  const app = await build(t)
  for (const password of ['é'.repeat(36), 'a'.repeat(72), `${'€'.repeat(23)}abc`]) {
    t.equal(Buffer.byteLength(password), 72)
    const user = newUser({ password })
    const res = await register(app, user)
    t.equal(res.statusCode, 201, `${password.length} characters, 72 bytes`)
    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password } })
    t.equal(login.statusCode, 200)
  }
})

t.test('a password differing only past byte 72 does not log in (nothing is silently truncated)', async t => {
  const app = await build(t)
  const user = await registerUser(app, newUser({ password: 'a'.repeat(72) }))
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: `${'a'.repeat(72)}b` } })
  t.equal(login.statusCode, 401)
  t.equal(login.json().code, 'invalid_credentials')
})

for (const email of ['no-at-sign.example.com', 'ada lovelace@example.com', 'ada@exa mple.com', '@example.com', 'ada@', '']) {
  t.test(`the invalid email ${JSON.stringify(email)} is 400 on field email`, async t => {
    const app = await build(t)
    const res = await register(app, newUser({ email }))
    const messages = validationMessages(t, res, 'email')
    t.ok(messages.length > 0)
    t.equal(res.json().errors.every((e: { field: string }) => e.field === 'email'), true, 'only the email is at fault')
  })
}

t.test('an invalid username is 400 on field username', async t => {
  const app = await build(t)
  for (const username of ['', 'has space', 'semi;colon', 'x'.repeat(151)]) {
    const res = await register(app, newUser({ username }))
    validationMessages(t, res, 'username')
  }
})
