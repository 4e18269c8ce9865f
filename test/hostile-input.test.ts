import t from 'tap'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { build, bearer, loginUser, newUser, PASSWORD, type LoggedIn } from './helper.js'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]
type Reply = Awaited<ReturnType<FastifyInstance['inject']>>

const JSON_TYPE = 'application/json'
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8'
const BODY_LIMIT = 64 * 1024

/** What a hostile request must get: a status and stable code, and for validation failures a field at fault. */
interface Expected {
  status: number
  code: string
  field?: string
  message?: string
}

interface Case {
  name: string
  payload: string | Buffer
  contentType?: string
  expected: Expected
}

interface Route {
  method: 'POST' | 'PATCH'
  url: string
  auth: boolean
  /** A well-formed body for this user: every case breaks it in one way. */
  base: (user: LoggedIn) => Record<string, unknown>
  stringFields: string[]
  /** Well-typed values the route must still refuse (unicode tricks, NUL), with what it answers. */
  hostileValues: (user: LoggedIn) => Array<[string, Record<string, unknown>, Expected]>
}

const malformed: Expected = { status: 400, code: 'malformed_request' }
const notAnObject: Expected = { status: 400, code: 'validation_failed', field: 'body', message: 'must be object' }
const unsupported: Expected = { status: 415, code: 'unsupported_media_type' }
const tooLarge: Expected = { status: 413, code: 'payload_too_large' }
const invalid = (field: string, message?: string): Expected => ({ status: 400, code: 'validation_failed', field, ...(message !== undefined && { message }) })

const ROUTES: Route[] = [
  {
    method: 'POST',
    url: '/api/auth/register',
    auth: false,
    base: () => newUser(),
    stringFields: ['email', 'username', 'password'],
    hostileValues: () => [
      ['NUL in the email', newUser({ email: 'nul\u0000@example.com' }), invalid('email')],
      ['a line break in the email', newUser({ email: 'line@exa\r\nmple.com' }), invalid('email')],
      ['an emoji email', newUser({ email: '💥@example.com' }), invalid('email')],
      ['NUL in the username', newUser({ username: 'nul\u0000byte' }), invalid('username')],
      ['a right-to-left override in the username', newUser({ username: 'admin\u202egnp' }), invalid('username')],
      ['a zero-width space in the username', newUser({ username: 'ad\u200bmin' }), invalid('username')],
      ['a lone surrogate in the username', newUser({ username: 'x\ud800y' }), invalid('username')]
    ]
  },
  {
    method: 'POST',
    url: '/api/auth/login',
    auth: false,
    base: user => ({ email: user.email, password: user.password }),
    stringFields: ['email', 'username', 'password'],
    hostileValues: user => [
      ['NUL in the email', { email: `${user.email}\u0000`, password: user.password }, invalid('email')],
      ['NUL in the username', { username: `${user.username}\u0000`, password: user.password }, invalid('username')],
      ['NUL inside the password', { email: user.email, password: `${user.password}\u0000` }, { status: 401, code: 'invalid_credentials' }],
      ['the password cut at a NUL', { email: user.email, password: `${user.password.slice(0, 4)}\u0000${user.password.slice(5)}` }, { status: 401, code: 'invalid_credentials' }],
      ['both email and username', { email: user.email, username: user.username, password: user.password }, { status: 400, code: 'validation_failed' }]
    ]
  },
  {
    method: 'POST',
    url: '/api/auth/token/refresh',
    auth: false,
    base: user => ({ refresh: user.refresh }),
    stringFields: ['refresh'],
    hostileValues: user => [
      ['NUL after the refresh token', { refresh: `${user.refresh}\u0000` }, { status: 401, code: 'token_not_valid' }],
      ['a lone surrogate as the refresh token', { refresh: '\ud800' }, { status: 401, code: 'token_not_valid' }],
      ['the access token as a refresh token', { refresh: user.access.slice(0, 512) }, { status: 401, code: 'token_not_valid' }]
    ]
  },
  {
    method: 'POST',
    url: '/api/auth/token/verify',
    auth: false,
    base: user => ({ token: user.access }),
    stringFields: ['token'],
    hostileValues: user => [
      ['NUL after the token', { token: `${user.access}\u0000` }, { status: 401, code: 'token_not_valid' }],
      ['a refresh token', { token: user.refresh }, { status: 401, code: 'token_not_valid' }],
      ['a token with alg none', { token: `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${user.access.split('.')[1]}.` }, { status: 401, code: 'token_not_valid' }]
    ]
  },
  {
    method: 'POST',
    url: '/api/auth/logout',
    auth: false,
    base: user => ({ refresh: user.refresh }),
    stringFields: ['refresh'],
    hostileValues: () => []
  },
  {
    method: 'POST',
    url: '/api/auth/password/change',
    auth: true,
    base: user => ({ current_password: user.password, new_password: 'a brand new passphrase' }),
    stringFields: ['current_password', 'new_password'],
    hostileValues: user => [
      ['NUL inside the current password', { current_password: `${user.password}\u0000`, new_password: 'a brand new passphrase' }, { status: 403, code: 'invalid_credentials' }],
      ['a short new password hidden by NULs', { current_password: user.password, new_password: 'ab\u0000\u0000' }, invalid('new_password')],
      ['a new password of 80 bytes in 40 characters', { current_password: user.password, new_password: 'é'.repeat(40) }, invalid('new_password')]
    ]
  },
  {
    method: 'PATCH',
    url: '/api/auth/me',
    auth: true,
    base: () => ({ username: 'renamed_user' }),
    stringFields: ['username'],
    hostileValues: () => [
      ['NUL in the username', { username: 'nul\u0000byte' }, invalid('username')],
      ['a right-to-left override in the username', { username: 'admin\u202egnp' }, invalid('username')],
      ['a zero-width joiner in the username', { username: 'ad\u200dmin' }, invalid('username')],
      ['an empty username', { username: '' }, invalid('username')]
    ]
  }
]

const json = (value: unknown) => JSON.stringify(value)

function cases (route: Route, user: LoggedIn): Case[] {
  const base = route.base(user)
  const baseJson = json(base).slice(1, -1)
  const list: Case[] = [
    { name: 'a truncated object', payload: '{', expected: malformed },
    { name: 'a truncated member', payload: '{"a":', expected: malformed },
    { name: 'a trailing comma', payload: `{${baseJson},}`, expected: malformed },
    { name: 'single quotes', payload: '{\'a\': 1}', expected: malformed },
    { name: 'NaN', payload: 'NaN', expected: malformed },
    { name: 'two documents', payload: `${json(base)} {}`, expected: malformed },
    // An empty JSON body is no body: refresh and logout then look for the cookie (logout has nothing to
    // refuse, so it is left out), the others refuse the missing object.
    ...(route.url === '/api/auth/logout'
      ? []
      : [{ name: 'an empty JSON body', payload: '', expected: route.url === '/api/auth/token/refresh' ? invalid('refresh') : notAnObject }]),
    { name: 'a whitespace-only JSON body', payload: '  \n ', expected: malformed },
    { name: 'JSON null', payload: 'null', expected: notAnObject },
    { name: 'a JSON array', payload: '[]', expected: notAnObject },
    { name: 'an array of the body', payload: json([base]), expected: notAnObject },
    { name: 'a JSON string', payload: '"str"', expected: notAnObject },
    { name: 'a JSON number', payload: '123', expected: notAnObject },
    { name: 'JSON true', payload: 'true', expected: notAnObject },
    { name: 'an unknown field', payload: json({ ...base, zzz: 1 }), expected: invalid('zzz', 'is not an allowed field') },
    { name: 'an is_staff field', payload: json({ ...base, is_staff: true }), expected: invalid('is_staff', 'is not an allowed field') },
    { name: 'a NUL and a non-ASCII field name', payload: json({ ...base, 'ev\u0000il': 1 }), expected: invalid('ev\u0000il', 'is not an allowed field') },
    { name: '__proto__ at the top', payload: `{${baseJson},"__proto__":{"is_staff":true}}`, expected: malformed },
    { name: '__proto__ nested', payload: `{"x":{"__proto__":{"is_staff":true}},${baseJson}}`, expected: malformed },
    { name: 'constructor.prototype', payload: `{${baseJson},"constructor":{"prototype":{"is_staff":true}}}`, expected: malformed },
    { name: 'deeply nested arrays', payload: `${'['.repeat(20000)}${']'.repeat(20000)}`, expected: notAnObject },
    { name: 'a body just over 64 KiB', payload: json({ ...base, pad: 'x'.repeat(BODY_LIMIT) }), expected: tooLarge },
    { name: 'a huge body', payload: json({ ...base, pad: 'x'.repeat(BODY_LIMIT * 16) }), expected: tooLarge },
    { name: 'text/plain', contentType: 'text/plain', payload: json(base), expected: unsupported },
    { name: 'text/plain with a charset', contentType: 'text/plain; charset=utf-8', payload: json(base), expected: unsupported },
    { name: 'a urlencoded form', contentType: 'application/x-www-form-urlencoded', payload: new URLSearchParams(Object.entries(base).map(([k, v]): [string, string] => [k, String(v)])).toString(), expected: unsupported },
    {
      name: 'multipart',
      contentType: 'multipart/form-data; boundary=XyZ',
      payload: `--XyZ\r\nContent-Disposition: form-data; name="data"\r\n\r\n${json(base)}\r\n--XyZ--\r\n`,
      expected: unsupported
    },
    { name: 'XML', contentType: 'application/xml', payload: '<a>1</a>', expected: unsupported },
    { name: 'a JSON-like media type', contentType: 'application/jsonx', payload: json(base), expected: unsupported },
    { name: 'a vendor JSON media type', contentType: 'application/vnd.api+json', payload: json(base), expected: unsupported },
    { name: 'no content type at all', contentType: '', payload: json(base), expected: unsupported },
    { name: 'only parameters as content type', contentType: '; charset=utf-8', payload: json(base), expected: unsupported },
    // Bodies are UTF-8: a body declared in any other charset would be misread, so it is refused.
    { name: 'a latin1 charset', contentType: 'application/json; charset=latin1', payload: Buffer.from(json({ ...base, zzz: 'é' }), 'latin1'), expected: unsupported },
    { name: 'a UTF-16 body', contentType: 'application/json; charset=utf-16', payload: Buffer.from(json(base), 'utf16le'), expected: unsupported },
    { name: 'a UTF-8 body declared UTF-16', contentType: 'application/json; charset=UTF-16', payload: json(base), expected: unsupported },
    { name: 'a quoted, odd charset', contentType: 'application/json; charset="ut\\"f-8"; x=y', payload: json({ ...base, zzz: 1 }), expected: unsupported },
    { name: 'a quoted UTF-8 charset', contentType: 'application/json; charset="UTF-8"; x=y', payload: json({ ...base, zzz: 1 }), expected: invalid('zzz') },
    { name: 'an upper-case media type', contentType: 'APPLICATION/JSON', payload: json({ ...base, zzz: 1 }), expected: invalid('zzz') }
  ]
  for (const field of route.stringFields) {
    for (const [label, value] of [['a number', 1], ['a float', 1.5], ['an array', ['x']], ['an object', { $gt: '' }], ['null', null], ['a boolean', true]] as const) {
      list.push({ name: `${field} as ${label}`, payload: json({ ...base, [field]: value }), expected: invalid(field) })
    }
    list.push({ name: `${field} of 60000 characters`, payload: json({ ...base, [field]: 'a'.repeat(60_000) }), expected: invalid(field) })
    // Each NUL is six bytes of JSON (\u0000): 9000 of them stay under the body limit, over every maxLength.
    list.push({ name: `${field} of 9000 NULs`, payload: json({ ...base, [field]: '\u0000'.repeat(9000) }), expected: invalid(field) })
  }
  for (const [name, body, expected] of route.hostileValues(user)) list.push({ name, payload: json(body), expected })
  return list
}

function assertProblem (t: Test, res: Reply, expected: Expected) {
  t.ok(res.statusCode >= 400 && res.statusCode < 500, `a 4xx, never a 5xx: ${res.statusCode}`)
  t.equal(res.statusCode, expected.status)
  t.equal(res.headers['content-type'], PROBLEM_TYPE)
  const body = res.json()
  t.equal(body.type, 'about:blank')
  t.type(body.title, 'string')
  t.ok(body.title.length > 0)
  t.equal(body.status, res.statusCode, 'status matches the HTTP status')
  t.equal(body.code, expected.code)
  t.type(body.detail, 'string')
  t.ok(body.detail.length > 0)
  if (expected.code === 'validation_failed') {
    t.ok(Array.isArray(body.errors) && body.errors.length > 0, 'validation errors are listed')
    for (const error of body.errors ?? []) {
      t.same(Object.keys(error).sort(), ['field', 'message'])
      t.type(error.field, 'string')
      t.type(error.message, 'string')
    }
    if (expected.field !== undefined) {
      const messages = (body.errors as Array<{ field: string, message: string }> ?? []).filter(e => e.field === expected.field).map(e => e.message)
      t.ok(messages.length > 0, `${JSON.stringify(expected.field)} is named in ${JSON.stringify(body.errors)}`)
      if (expected.message !== undefined) t.ok(messages.includes(expected.message), `"${expected.message}" in ${JSON.stringify(messages)}`)
    }
  }
}

function send (app: FastifyInstance, route: Route, user: LoggedIn, hostile: Case) {
  const headers: Record<string, string> = route.auth ? bearer(user.access) : {}
  if (hostile.contentType === undefined) headers['content-type'] = JSON_TYPE
  else if (hostile.contentType !== '') headers['content-type'] = hostile.contentType
  const options: InjectOptions = { method: route.method, url: route.url, headers, payload: hostile.payload }
  return app.inject(options)
}

/** Nothing a hostile request did may have changed the account, its session or its tokens. */
async function assertUnharmed (t: Test, app: FastifyInstance, user: LoggedIn) {
  const stored = await app.repositories.users.findById(user.id)
  t.equal(stored?.email, user.email, 'the email is unchanged')
  t.equal(stored?.username, user.username, 'the username is unchanged')
  t.equal(stored?.isStaff, false, 'nobody became staff')
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
  t.equal(login.statusCode, 200, 'the password is unchanged')
  const me = await app.inject({ url: '/api/auth/me', headers: bearer(user.access) })
  t.equal(me.statusCode, 200, 'the access token still works')
  const refresh = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: user.refresh } })
  t.equal(refresh.statusCode, 200, 'the refresh token was neither rotated nor revoked')
  t.equal(({} as Record<string, unknown>).is_staff, undefined, 'Object.prototype is not polluted')
}

for (const route of ROUTES) {
  t.test(`${route.method} ${route.url} answers every hostile body with a 4xx problem`, async t => {
    const app = await build(t)
    const user = await loginUser(app)
    for (const hostile of cases(route, user)) {
      await t.test(hostile.name, async t => {
        assertProblem(t, await send(app, route, user, hostile), hostile.expected)
      })
    }
    await assertUnharmed(t, app, user)
  })
}

t.test('a hostile barrage on register and login loses nothing stored and creates no user', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const before = await app.repositories.users.findById(user.id)
  const attempted = new Set<string>()
  for (const route of ROUTES.filter(r => r.url === '/api/auth/register' || r.url === '/api/auth/login')) {
    // Aim the hostile bodies at the existing account too: its email and username.
    const aimed: LoggedIn = { ...user }
    for (const hostile of [...cases(route, aimed), ...cases({ ...route, base: () => ({ email: user.email, username: user.username, password: 'another password' }) }, aimed)]) {
      const res = await send(app, route, user, hostile)
      t.ok(res.statusCode >= 400 && res.statusCode < 500, `${route.url} ${hostile.name}: ${res.statusCode}`)
      t.not(res.statusCode, 201)
      let body: unknown
      try {
        body = JSON.parse(hostile.payload.toString())
      } catch {
        continue
      }
      for (const key of ['email', 'username']) {
        const value = (body as Record<string, unknown> | null)?.[key]
        if (typeof value === 'string') attempted.add(value)
      }
    }
  }
  t.ok(attempted.size > 3, `checked ${attempted.size} hostile identities`)
  for (const identity of attempted) {
    if (identity === user.email || identity === user.username) continue
    t.equal(await app.repositories.users.findByEmail(identity.trim().toLowerCase()), undefined, `no user ${JSON.stringify(identity)}`)
    t.equal(await app.repositories.users.findByUsername(identity), undefined, `no username ${JSON.stringify(identity)}`)
  }
  const after = await app.repositories.users.findById(user.id)
  t.equal(after?.passwordHash, before?.passwordHash, 'the stored hash is untouched')
  t.equal(after?.email, before?.email)
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
  t.equal(login.statusCode, 200, 'the registered user still logs in')
  t.equal(login.json().user.id, user.id)
})

t.test('hostile Authorization headers are 401 problems with WWW-Authenticate', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const [header, payload] = user.access.split('.')
  const none = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${payload}.`
  const table: Array<[string, string, string]> = [
    ['Bearer without a token', 'Bearer', 'token_not_valid'],
    ['Bearer and a space', 'Bearer ', 'token_not_valid'],
    ['three dots of garbage', 'Bearer a.b.c', 'token_not_valid'],
    ['a 20000-character token', `Bearer ${'a'.repeat(20_000)}`, 'token_not_valid'],
    ['alg none', `Bearer ${none}`, 'token_not_valid'],
    ['no signature', `Bearer ${header}.${payload}`, 'token_not_valid'],
    ['a NUL', 'Bearer \u0000', 'token_not_valid'],
    ['a refresh token', `Bearer ${user.refresh}`, 'token_not_valid'],
    ['a trailing word', `Bearer ${user.access} extra`, 'token_not_valid'],
    ['Basic credentials', `Basic ${Buffer.from(`${user.email}:${PASSWORD}`).toString('base64')}`, 'not_authenticated'],
    ['another scheme', `Token ${user.access}`, 'not_authenticated']
  ]
  for (const [name, authorization, code] of table) {
    await t.test(name, async t => {
      const res = await app.inject({ url: '/api/auth/me', headers: { authorization } })
      assertProblem(t, res, { status: 401, code })
      t.match(res.headers['www-authenticate'], /^Bearer/)
    })
  }
})

t.test('hostile refresh cookies are 4xx problems, never 5xx', async t => {
  const app = await build(t)
  for (const cookie of ['refresh_token=%', 'refresh_token=%E0%A4%A', `refresh_token=${'x'.repeat(8000)}`, 'refresh_token=a; refresh_token=b', 'refresh_token="\u0000"']) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', headers: { cookie } })
    assertProblem(t, res, { status: 401, code: 'token_not_valid' })
  }
  for (const cookie of ['refresh_token=', '=;;=', 'other=1']) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', headers: { cookie } })
    assertProblem(t, res, invalid('refresh'))
  }
})

t.test('unknown routes are 404 not_found problems', async t => {
  const app = await build(t)
  for (const url of ['/', '/nope', '/api', '/api/auth', '/api/auth/nope?x=1', '/api/auth/register/extra', '/.well-known/nope', '/api/auth/..%2F..%2Fetc%2Fpasswd', `/${'a'.repeat(4000)}`]) {
    const res = await app.inject({ url })
    assertProblem(t, res, { status: 404, code: 'not_found' })
    t.equal(res.json().instance, url.split('?')[0], 'the instance is the path, without the query')
  }
})

t.test('a wrong method on a known path is a 404 or 405 problem', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const table: Array<[InjectOptions['method'], string]> = [
    ['GET', '/api/auth/register'], ['PUT', '/api/auth/register'], ['DELETE', '/api/auth/register'],
    ['GET', '/api/auth/login'], ['GET', '/api/auth/token/refresh'], ['GET', '/api/auth/logout'],
    ['PUT', '/api/auth/me'], ['DELETE', '/api/auth/me'], ['POST', '/api/auth/me'],
    ['POST', '/api/auth/sessions'], ['PATCH', '/api/auth/password/change'],
    ['POST', '/.well-known/jwks.json'], ['DELETE', '/health/live'], ['PROPFIND', '/api/auth/me'], ['TRACE', '/api/auth/login']
  ]
  for (const [method, url] of table) {
    const res = await app.inject({ method, url, headers: bearer(user.access), ...(method !== 'GET' && method !== 'TRACE' && { payload: {} }) })
    t.ok([404, 405].includes(res.statusCode), `${method} ${url}: ${res.statusCode}`)
    assertProblem(t, res, { status: res.statusCode, code: res.statusCode === 404 ? 'not_found' : 'method_not_allowed' })
  }
  const head = await app.inject({ method: 'HEAD', url: '/api/auth/register' })
  t.ok([404, 405].includes(head.statusCode), 'HEAD on a POST route is refused too')
  t.equal(head.headers['content-type'], PROBLEM_TYPE)
})

t.test('URLs Fastify cannot route are problems too', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  for (const url of ['/%', '/api/auth/%zz', '/api/auth/sessions/%E0%A4%A']) {
    const res = await app.inject({ method: url.includes('sessions') ? 'DELETE' : 'GET', url, headers: bearer(user.access) })
    assertProblem(t, res, malformed)
  }
  const longParam = await app.inject({ method: 'DELETE', url: `/api/auth/sessions/${'a'.repeat(500)}`, headers: bearer(user.access) })
  assertProblem(t, longParam, { status: 414, code: 'uri_too_long' })
  const nulParam = await app.inject({ method: 'DELETE', url: '/api/auth/sessions/%00', headers: bearer(user.access) })
  assertProblem(t, nulParam, { status: 404, code: 'not_found' })
  const overlongParam = await app.inject({ method: 'DELETE', url: `/api/auth/sessions/${'a'.repeat(65)}`, headers: bearer(user.access) })
  assertProblem(t, overlongParam, invalid('id'))
})
