import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { ProblemError } from '../../src/errors.js'
import { appDatabaseUrl, build, buildAppFor, bearer, loginUser, testConfig } from '../helper.js'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]
type Reply = Awaited<ReturnType<FastifyInstance['inject']>>

/** A built app with extra routes added before ready(), closed when the test ends. */
async function appWith (t: Test, addRoutes: (app: FastifyInstance) => void): Promise<FastifyInstance> {
  const app = await buildAppFor(t, testConfig({ databaseUrl: await appDatabaseUrl(t) }))
  addRoutes(app)
  await app.ready()
  return app
}

/** The RFC 9457 shape every error shares; returns the parsed body. */
function assertProblem (t: Test, res: Reply, status: number, code: string) {
  t.equal(res.statusCode, status)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  const body = res.json()
  t.equal(body.type, 'about:blank')
  t.type(body.title, 'string')
  t.equal(body.status, status)
  t.equal(body.code, code)
  t.type(body.detail, 'string')
  return body
}

t.test('an unexpected error is a 500 internal_error that hides the message behind the request id', async t => {
  const app = await appWith(t, app => {
    app.get('/boom', async () => { throw new Error('secret detail') })
  })
  const res = await app.inject({ url: '/boom?x=1' })
  const body = assertProblem(t, res, 500, 'internal_error')
  t.equal(body.title, 'Internal Server Error')
  const requestId = res.headers['x-request-id']
  t.type(requestId, 'string')
  t.match(requestId, /^[0-9a-f-]{36}$/)
  t.match(body.detail, requestId as string)
  t.notMatch(res.body, 'secret detail')
  t.notOk('stack' in body)
  t.equal(body.instance, '/boom', 'the instance is the path without the query')
})

t.test('each request gets its own id in the header and the 500 detail', async t => {
  const app = await appWith(t, app => {
    app.get('/boom', async () => { throw new Error('secret detail') })
  })
  const first = await app.inject({ url: '/boom' })
  const second = await app.inject({ url: '/boom' })
  t.not(first.headers['x-request-id'], second.headers['x-request-id'])
  t.match(second.json().detail, second.headers['x-request-id'] as string)
})

t.test('an error that claims a 5xx status is still a plain 500 with its message hidden', async t => {
  const app = await appWith(t, app => {
    app.get('/upstream', async () => {
      throw Object.assign(new Error('upstream password=hunter2'), { statusCode: 502 })
    })
  })
  const res = await app.inject({ url: '/upstream' })
  assertProblem(t, res, 500, 'internal_error')
  t.notMatch(res.body, 'hunter2')
})

t.test('a database out of reach is a 503 service_unavailable with Retry-After, not a 500; a refused query stays a 500', async t => {
  const unavailable = [
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    new Error('Connection terminated unexpectedly'),
    Object.assign(new Error('Failed query: select 1'), { cause: Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }) }),
    Object.assign(new Error('sorry, too many clients already'), { code: '53300' })
  ]
  const app = await appWith(t, app => {
    unavailable.forEach((err, i) => app.get(`/down/${i}`, async () => { throw err }))
    app.get('/refused', async () => { throw Object.assign(new Error('syntax error'), { code: '42601' }) })
  })
  for (let i = 0; i < unavailable.length; i++) {
    const res = await app.inject({ url: `/down/${i}` })
    const body = assertProblem(t, res, 503, 'service_unavailable')
    t.equal(res.headers['retry-after'], '1')
    t.notMatch(body.detail, /ECONNREFUSED|5432|terminat|clients/, 'no internals in the answer')
  }
  assertProblem(t, await app.inject({ url: '/refused' }), 500, 'internal_error')
})

t.test('a thrown non-Error value is a 500 problem too', async t => {
  const app = await appWith(t, app => {
    // eslint-disable-next-line no-throw-literal
    app.get('/string', async () => { throw 'secret string' })
  })
  const res = await app.inject({ url: '/string' })
  assertProblem(t, res, 500, 'internal_error')
  t.notMatch(res.body, 'secret string')
})

t.test('a ProblemError keeps its status, code, detail, errors and headers', async t => {
  const app = await appWith(t, app => {
    app.get('/teapot', async () => {
      throw new ProblemError(409, 'custom_conflict', 'It clashes.', {
        errors: [{ field: 'name', message: 'is taken' }],
        headers: { 'retry-after': '7' }
      })
    })
  })
  const res = await app.inject({ url: '/teapot' })
  const body = assertProblem(t, res, 409, 'custom_conflict')
  t.equal(body.title, 'Conflict')
  t.equal(body.detail, 'It clashes.')
  t.same(body.errors, [{ field: 'name', message: 'is taken' }])
  t.equal(res.headers['retry-after'], '7')
})

t.test('a 4xx error from a plugin or Fastify is mapped to a stable code by its status', async t => {
  const app = await appWith(t, app => {
    app.get('/gone', async () => { throw Object.assign(new Error('Nothing here.'), { statusCode: 404 }) })
    app.get('/unauthorized', async () => { throw Object.assign(new Error('Who are you?'), { statusCode: 401 }) })
    app.get('/odd', async () => { throw Object.assign(new Error('I am a teapot.'), { statusCode: 418 }) })
  })
  const gone = assertProblem(t, await app.inject({ url: '/gone' }), 404, 'not_found')
  t.equal(gone.detail, 'Nothing here.')
  const unauthorized = await app.inject({ url: '/unauthorized' })
  assertProblem(t, unauthorized, 401, 'not_authenticated')
  t.match(unauthorized.headers['www-authenticate'], /^Bearer/, 'every 401 carries WWW-Authenticate')
  const odd = assertProblem(t, await app.inject({ url: '/odd' }), 418, 'http_418')
  t.equal(odd.title, 'I\'m a Teapot')
})

t.test('a missing field is named with "is required"', async t => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: 'ada', password: 'correct horse battery' } })
  const body = assertProblem(t, res, 400, 'validation_failed')
  t.same(body.errors, [{ field: 'email', message: 'is required' }])
  t.equal(body.detail, 'The request is not valid: email is required.')
})

t.test('an additional property is named and called not allowed', async t => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'ada@example.com', password: 'pw', remember_me: true } })
  const body = assertProblem(t, res, 400, 'validation_failed')
  t.same(body.errors, [{ field: 'remember_me', message: 'is not an allowed field' }])
  t.match(body.detail, 'remember_me is not an allowed field')
})

t.test('a bad email format reads "must be a valid email address"', async t => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'not-an-email', password: 'pw' } })
  const body = assertProblem(t, res, 400, 'validation_failed')
  t.same(body.errors, [{ field: 'email', message: 'must be a valid email address' }])
})

t.test('every problem of a body is listed at once, each field once per message', async t => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: 'nope', username: 7, extra: 1 } })
  const body = assertProblem(t, res, 400, 'validation_failed')
  const fields = body.errors.map((e: { field: string }) => e.field).sort()
  t.same(fields, ['email', 'extra', 'password', 'username'])
  for (const error of body.errors) {
    t.same(Object.keys(error).sort(), ['field', 'message'])
    t.type(error.message, 'string')
  }
})

t.test('nested fields are dotted paths and non-body failures name their part', async t => {
  const app = await appWith(t, app => {
    app.post('/nested', {
      schema: {
        body: {
          type: 'object',
          required: ['profile'],
          additionalProperties: false,
          properties: {
            profile: {
              type: 'object',
              required: ['name'],
              additionalProperties: false,
              properties: { name: { type: 'string' }, contact: { type: 'string', format: 'email' } }
            }
          }
        }
      }
    }, async () => ({}))
    app.get('/query', {
      schema: { querystring: { type: 'object', required: ['q'], properties: { q: { type: 'string', minLength: 3 } } } }
    }, async () => ({}))
  })
  const nested = await app.inject({ method: 'POST', url: '/nested', payload: { profile: { contact: 'nope', age: 3 } } })
  const body = assertProblem(t, nested, 400, 'validation_failed')
  t.same(body.errors.slice().sort((a: { field: string }, b: { field: string }) => a.field.localeCompare(b.field)), [
    { field: 'profile.age', message: 'is not an allowed field' },
    { field: 'profile.contact', message: 'must be a valid email address' },
    { field: 'profile.name', message: 'is required' }
  ])
  const notAnObject = await app.inject({ method: 'POST', url: '/nested', payload: '[]', headers: { 'content-type': 'application/json' } })
  t.same(assertProblem(t, notAnObject, 400, 'validation_failed').errors, [{ field: 'body', message: 'must be object' }])
  const query = await app.inject({ url: '/query?q=ab' })
  const queryBody = assertProblem(t, query, 400, 'validation_failed')
  t.equal(queryBody.errors.length, 1)
  t.equal(queryBody.errors[0].field, 'q')
  const missingQuery = await app.inject({ url: '/query' })
  t.same(assertProblem(t, missingQuery, 400, 'validation_failed').errors, [{ field: 'q', message: 'is required' }])
})

t.test('a 401 without a token carries WWW-Authenticate: Bearer without an error', async t => {
  const app = await build(t)
  const res = await app.inject({ url: '/api/auth/me' })
  assertProblem(t, res, 401, 'not_authenticated')
  t.match(res.headers['www-authenticate'], /^Bearer/)
  t.notMatch(res.headers['www-authenticate'], /error=/)
})

t.test('a 401 for a rejected token carries error="invalid_token"', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  for (const token of ['garbage', `${user.access}x`, user.refresh]) {
    const res = await app.inject({ url: '/api/auth/me', headers: bearer(token) })
    assertProblem(t, res, 401, 'token_not_valid')
    t.match(res.headers['www-authenticate'], /^Bearer .*error="invalid_token"/)
  }
})

t.test('an unknown route is a 404 not_found problem naming the method and path', async t => {
  const app = await build(t)
  const res = await app.inject({ method: 'DELETE', url: '/no/such/thing?secret=1' })
  const body = assertProblem(t, res, 404, 'not_found')
  t.equal(body.detail, 'No route for DELETE /no/such/thing.')
  t.equal(body.instance, '/no/such/thing')
  t.type(res.headers['x-request-id'], 'string')
})

t.test('URLs Fastify refuses before routing are problems too, with a request id', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const badUrl = await app.inject({ url: '/api/auth/%zz' })
  assertProblem(t, badUrl, 400, 'malformed_request')
  t.type(badUrl.headers['x-request-id'], 'string')
  const longParam = await app.inject({ method: 'DELETE', url: `/api/auth/sessions/${'a'.repeat(200)}`, headers: bearer(user.access) })
  assertProblem(t, longParam, 414, 'uri_too_long')
  t.type(longParam.headers['x-request-id'], 'string')
})
