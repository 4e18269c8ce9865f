import t, { type Test } from 'tap'
import { createHmac, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { build, loginUser, newUser, registerUser, bearer, testPrivateKey, PASSWORD, rawDatabase, testDatabaseUrl } from '../../../helper.js'

const USER_FIELDS = ['date_joined', 'email', 'email_verified', 'groups', 'id', 'is_active', 'is_staff', 'is_superuser', 'last_login', 'permissions', 'providers', 'username']

function me (app: FastifyInstance, headers: Record<string, string> = {}) {
  return app.inject({ url: '/api/auth/me', headers })
}

function patchMe (app: FastifyInstance, access: string, payload: Record<string, unknown>) {
  return app.inject({ method: 'PATCH', url: '/api/auth/me', headers: bearer(access), payload })
}

type Json = Record<string, unknown>

function decodePart (token: string, index: number): Json {
  return JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString())
}

function encodePart (part: Json): string {
  return Buffer.from(JSON.stringify(part)).toString('base64url')
}

/** Signs header and payload by hand, so the tests do not depend on the library under test. */
function craft (header: Json, payload: Json, signer: (input: string) => string): string {
  const input = `${encodePart(header)}.${encodePart(payload)}`
  return `${input}.${signer(input)}`
}

function rs256 (key: KeyObject | string) {
  return (input: string) => sign('sha256', Buffer.from(input), key).toString('base64url')
}

function hs256 (secret: string | Buffer) {
  return (input: string) => createHmac('sha256', secret).update(input).digest('base64url')
}

/** A real access token's header and claims, ready to be changed and signed again. */
function partsOf (access: string) {
  return { header: decodePart(access, 0), payload: decodePart(access, 1) }
}

function nowSeconds () {
  return Math.floor(Date.now() / 1000)
}

function expectTokenNotValid (t: Test, res: Awaited<ReturnType<FastifyInstance['inject']>>, message = 'token_not_valid') {
  t.equal(res.statusCode, 401, message)
  t.equal(res.json().code, 'token_not_valid', message)
  t.match(res.headers['www-authenticate'], /^Bearer .*error="invalid_token"/, message)
}

t.test('GET /me answers the contract\'s user and nothing more', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await me(app, bearer(user.access))
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.same(Object.keys(body).sort(), USER_FIELDS)
  t.match(body, {
    id: user.id,
    email: user.email,
    username: user.username,
    email_verified: false,
    is_active: true,
    is_staff: false,
    is_superuser: false,
    groups: [],
    permissions: [],
    providers: []
  })
  t.equal(new Date(body.date_joined).toISOString(), body.date_joined)
  t.equal(new Date(body.last_login).toISOString(), body.last_login, 'the login was recorded')
  t.notMatch(res.body, /password/)
  t.notMatch(res.body, /\$2[aby]\$/, 'no bcrypt hash anywhere')
})

t.test('GET /me without Authorization is 401 not_authenticated with WWW-Authenticate: Bearer', async t => {
  const app = await build(t)
  await loginUser(app)
  const cases: Array<Record<string, string>> = [{}, { authorization: 'Basic dXNlcjpwYXNz' }]
  for (const headers of cases) {
    const res = await me(app, headers)
    t.equal(res.statusCode, 401)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.equal(res.json().code, 'not_authenticated')
    t.match(res.headers['www-authenticate'], /^Bearer/)
    t.notMatch(res.headers['www-authenticate'], /error=/, 'no token was sent, so no error')
  }
})

t.test('GET /me with a garbage or malformed bearer token is 401 token_not_valid', async t => {
  const app = await build(t)
  await loginUser(app)
  for (const authorization of ['Bearer garbage', 'Bearer a.b.c', 'Bearer ', 'Bearer one two', `Bearer ${'x'.repeat(5000)}`]) {
    expectTokenNotValid(t, await me(app, { authorization }), authorization.slice(0, 20))
  }
})

t.test('a hand-signed token with the real key and claims is accepted (the crafted tokens below are fair)', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const { header, payload } = partsOf(user.access)
  const token = craft(header, { ...payload, jti: randomUUID() }, rs256(testPrivateKey()))
  const res = await me(app, bearer(token))
  t.equal(res.statusCode, 200)
  t.equal(res.json().id, user.id)
})

t.test('GET /me with a tampered token is 401 token_not_valid', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const other = await loginUser(app)
  const [h, p, s] = user.access.split('.')
  const flipped = s[5] === 'A' ? 'B' : 'A'
  expectTokenNotValid(t, await me(app, bearer(`${h}.${p}.${s.slice(0, 5)}${flipped}${s.slice(6)}`)), 'signature changed')
  const claims = decodePart(user.access, 1)
  expectTokenNotValid(t, await me(app, bearer(`${h}.${encodePart({ ...claims, sub: other.id, user_id: other.id })}.${s}`)), 'payload changed')
  expectTokenNotValid(t, await me(app, bearer(`${h}.${p}.`)), 'signature removed')
})

t.test('GET /me with an expired access token is 401 token_not_valid', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const { header, payload } = partsOf(user.access)
  const iat = nowSeconds() - 6 * 60
  const expired = craft(header, { ...payload, iat, exp: iat + 300 }, rs256(testPrivateKey()))
  expectTokenNotValid(t, await me(app, bearer(expired)))
})

t.test('GET /me with a token signed by another key is 401 token_not_valid', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const elsewhere = await build(t, {}, { env: { JWT_PRIVATE_KEY: '' } })
  const stranger = await loginUser(elsewhere, newUser({ email: user.email.replace('@', '+x@'), username: `${user.username}x` }))
  t.not(partsOf(stranger.access).header.kid, partsOf(user.access).header.kid, 'the second app has its own key')
  t.equal((await me(elsewhere, bearer(stranger.access))).statusCode, 200, 'the token is good where it was issued')
  expectTokenNotValid(t, await me(app, bearer(stranger.access)), 'another app\'s token')

  // The same kid as the real key, but signed with a different RSA key.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const { header, payload } = partsOf(user.access)
  expectTokenNotValid(t, await me(app, bearer(craft(header, payload, rs256(privateKey)))), 'forged with the real kid')
})

t.test('GET /me refuses alg none and HS256 signed with the public key (algorithm confusion)', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const { header, payload } = partsOf(user.access)
  const claims = { ...payload, jti: randomUUID() }

  const none = `${encodePart({ ...header, alg: 'none' })}.${encodePart(claims)}.`
  expectTokenNotValid(t, await me(app, bearer(none)), 'alg none')
  const noneNoKid = `${encodePart({ alg: 'none', typ: 'at+jwt' })}.${encodePart(claims)}.`
  expectTokenNotValid(t, await me(app, bearer(noneNoKid)), 'alg none without kid')

  const publicPem = createPublicKey(testPrivateKey()).export({ format: 'pem', type: 'spki' }).toString()
  const confused = craft({ ...header, alg: 'HS256' }, claims, hs256(publicPem))
  expectTokenNotValid(t, await me(app, bearer(confused)), 'HS256 with the public PEM as secret')
  const jwk = app.publicJwks[0]
  t.ok(jwk, 'the app publishes its key')
  const confusedJwk = craft({ ...header, alg: 'HS256' }, claims, hs256(JSON.stringify(jwk)))
  expectTokenNotValid(t, await me(app, bearer(confusedJwk)), 'HS256 with the JWK as secret')
})

t.test('GET /me refuses a correctly signed token with the wrong type, audience, issuer or missing claims', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const { header, payload } = partsOf(user.access)
  const signWith = (h: Json, p: Json) => craft(h, { ...p, jti: randomUUID() }, rs256(testPrivateKey()))
  const { jti: _jti, ...withoutJti } = payload
  const { sid: _sid, ...withoutSid } = payload
  const { exp: _exp, ...withoutExp } = payload
  const cases: Array<[string, string]> = [
    ['token_type refresh', signWith(header, { ...payload, token_type: 'refresh' })],
    ['typ JWT', signWith({ ...header, typ: 'JWT' }, payload)],
    ['another audience', signWith(header, { ...payload, aud: 'someone-else' })],
    ['another issuer', signWith(header, { ...payload, iss: 'https://evil.example' })],
    ['no jti', craft(header, withoutJti, rs256(testPrivateKey()))],
    ['no sid', signWith(header, withoutSid)],
    ['no exp', signWith(header, withoutExp)],
    ['unknown kid', signWith({ ...header, kid: 'nope' }, payload)]
  ]
  for (const [name, token] of cases) expectTokenNotValid(t, await me(app, bearer(token)), name)
})

t.test('a refresh token never authenticates /me, in the header or in the cookie', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  expectTokenNotValid(t, await me(app, bearer(user.refresh)), 'refresh token as Bearer')
  const cookieOnly = await app.inject({ url: '/api/auth/me', cookies: { refresh_token: user.refresh } })
  t.equal(cookieOnly.statusCode, 401)
  t.equal(cookieOnly.json().code, 'not_authenticated')
})

t.test('an inactive user\'s unexpired access token is 401 user_inactive', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  await app.repositories.users.update(user.id, { isActive: false })
  const res = await me(app, bearer(user.access))
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'user_inactive')
  t.match(res.headers['www-authenticate'], /^Bearer/)
})

t.test('a banned user is 401 user_inactive until the ban ends', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  await app.repositories.users.update(user.id, { isBanned: true, bannedUntil: null })
  t.equal((await me(app, bearer(user.access))).json().code, 'user_inactive', 'a permanent ban')
  await app.repositories.users.update(user.id, { isBanned: true, bannedUntil: new Date(Date.now() + 3_600_000) })
  t.equal((await me(app, bearer(user.access))).json().code, 'user_inactive', 'a ban until later')
  await app.repositories.users.update(user.id, { isBanned: true, bannedUntil: new Date(Date.now() - 1000) })
  const allowed = await me(app, bearer(user.access))
  t.equal(allowed.statusCode, 200, 'a ban that has ended no longer applies')
})

t.test('a deleted user\'s access token is 401 user_inactive', async t => {
  const databaseUrl = await testDatabaseUrl(t)
  const app = await build(t, { databaseUrl })
  const user = await loginUser(app)
  const other = await loginUser(app)
  await rawDatabase(t, databaseUrl).run('DELETE FROM users WHERE id = ?', user.id)
  const res = await me(app, bearer(user.access))
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'user_inactive')
  t.equal((await me(app, bearer(other.access))).statusCode, 200, 'other users are unaffected')
})

t.test('PATCH /me changes the username', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await patchMe(app, user.access, { username: 'ada.lovelace' })
  t.equal(res.statusCode, 200)
  t.same(Object.keys(res.json()).sort(), USER_FIELDS)
  t.equal(res.json().username, 'ada.lovelace')
  t.equal(res.json().email, user.email)
  t.equal((await me(app, bearer(user.access))).json().username, 'ada.lovelace')
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'ADA.LOVELACE', password: PASSWORD } })
  t.equal(login.statusCode, 200, 'the new username logs in')
  const old = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: user.username, password: PASSWORD } })
  t.equal(old.statusCode, 401, 'the old username is gone')
})

t.test('PATCH /me may change only the case of the user\'s own username', async t => {
  const app = await build(t)
  const user = await loginUser(app, newUser({ username: 'grace' }))
  const res = await patchMe(app, user.access, { username: 'Grace' })
  t.equal(res.statusCode, 200)
  t.equal(res.json().username, 'Grace')
})

t.test('PATCH /me with a username taken by another user, in any case, is 409 username_taken', async t => {
  const app = await build(t)
  await registerUser(app, newUser({ username: 'Hopper' }))
  const user = await loginUser(app)
  for (const username of ['Hopper', 'hopper', 'HOPPER']) {
    const res = await patchMe(app, user.access, { username })
    t.equal(res.statusCode, 409, username)
    t.equal(res.json().code, 'username_taken')
  }
  t.equal((await me(app, bearer(user.access))).json().username, user.username, 'nothing changed')
})

t.test('PATCH /me with an invalid username is 400 validation_failed', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  for (const username of ['has space', '', 'x'.repeat(151), 'semi;colon', 42, null]) {
    const res = await patchMe(app, user.access, { username })
    t.equal(res.statusCode, 400, JSON.stringify(username).slice(0, 20))
    t.equal(res.json().code, 'validation_failed')
    t.equal(res.json().errors[0].field, 'username')
  }
  t.equal((await me(app, bearer(user.access))).json().username, user.username, 'nothing changed')
  const longest = await patchMe(app, user.access, { username: 'y'.repeat(150) })
  t.equal(longest.statusCode, 200, '150 characters is allowed')
})

t.test('PATCH /me with an unknown field is 400 validation_failed and changes nothing', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const cases = [
    { is_staff: true },
    { email: 'new@example.com' },
    { username: 'renamed', is_superuser: true }
  ]
  for (const payload of cases) {
    const res = await patchMe(app, user.access, payload)
    t.equal(res.statusCode, 400, Object.keys(payload).join(','))
    t.equal(res.json().code, 'validation_failed')
    t.ok(res.json().errors.some((e: { message: string }) => e.message === 'is not an allowed field'))
  }
  const after = (await me(app, bearer(user.access))).json()
  t.equal(after.is_staff, false)
  t.equal(after.is_superuser, false)
  t.equal(after.email, user.email)
  t.equal(after.username, user.username)
})

t.test('PATCH /me without an access token is 401', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await app.inject({ method: 'PATCH', url: '/api/auth/me', payload: { username: 'intruder' } })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'not_authenticated')
  const withRefresh = await patchMe(app, user.refresh, { username: 'intruder' })
  t.equal(withRefresh.statusCode, 401)
  t.equal(withRefresh.json().code, 'token_not_valid')
  t.equal((await me(app, bearer(user.access))).json().username, user.username)
})
