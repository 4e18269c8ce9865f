// The server's default schema compilers (compiled at first use) answer exactly as Fastify's own compiled at start.
import t from 'tap'
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify'
import { buildApp, type BuildAppOptions } from '../../src/app.js'
import { lazySchemaCompilers } from '../../src/http/lazy-schema-compilers.js'
import { appDatabaseUrl, bearer, newUser, testConfig } from '../helper.js'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

/** An app as the server builds it (no schemaController: the lazy compilers), or with Fastify's defaults (`{}`). */
async function app (t: Test, schemaController: BuildAppOptions['schemaController']): Promise<FastifyInstance> {
  const built = await buildApp({ config: testConfig({ databaseUrl: await appDatabaseUrl(t) }), logger: false, schemaController })
  t.teardown(() => built.close())
  await built.ready()
  return built
}

/** What must not differ between the two apps: status, content type and body, but for the values each app makes up. */
function answer (res: Awaited<ReturnType<FastifyInstance['inject']>>) {
  const body = res.body === '' ? undefined : res.json()
  const made = new Set(['access', 'refresh', 'id', 'created_at', 'updated_at', 'last_login', 'last_login_at', 'date_joined', 'expires_at', 'last_used_at'])
  const shape = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(shape)
    if (typeof value !== 'object' || value === null) return value
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, made.has(key) ? typeof v : shape(v)]))
  }
  return { status: res.statusCode, type: res.headers['content-type'], body: shape(body) }
}

t.test('validation failures, closed schemas and serialized answers are the same as with schemas compiled at start', async t => {
  const lazy = await app(t, undefined)
  const eager = await app(t, {})
  const user = newUser()
  const requests: Array<{ name: string, request: (token?: string) => InjectOptions }> = [
    { name: 'register: a missing field', request: () => ({ method: 'POST', url: '/api/auth/register', payload: { email: user.email, password: user.password } }) },
    { name: 'register: an unknown field', request: () => ({ method: 'POST', url: '/api/auth/register', payload: { ...user, admin: true } }) },
    { name: 'register: wrong types, every error', request: () => ({ method: 'POST', url: '/api/auth/register', payload: { email: 1, username: [], password: null } }) },
    { name: 'register: not an email', request: () => ({ method: 'POST', url: '/api/auth/register', payload: { ...user, email: 'not-an-email' } }) },
    { name: 'register: not an object', request: () => ({ method: 'POST', url: '/api/auth/register', payload: '[1]', headers: { 'content-type': 'application/json' } }) },
    { name: 'register', request: () => ({ method: 'POST', url: '/api/auth/register', payload: user }) },
    { name: 'register again: a conflict', request: () => ({ method: 'POST', url: '/api/auth/register', payload: user }) },
    { name: 'login: a wrong password', request: () => ({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: 'wrong password entirely' } }) },
    { name: 'login', request: () => ({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: user.password } }) },
    { name: 'me: no token', request: () => ({ method: 'GET', url: '/api/auth/me' }) },
    { name: 'me', request: token => ({ method: 'GET', url: '/api/auth/me', headers: bearer(token!) }) },
    { name: 'sessions: a bad query', request: token => ({ method: 'GET', url: '/api/auth/sessions?limit=abc', headers: bearer(token!) }) },
    { name: 'sessions', request: token => ({ method: 'GET', url: '/api/auth/sessions', headers: bearer(token!) }) },
    { name: 'an admin route with a bad id', request: token => ({ method: 'GET', url: '/api/admin/users/not-a-uuid', headers: bearer(token!) }) },
    { name: 'refresh: a malformed token', request: () => ({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: 42 } }) }
  ]
  const tokens = new Map<FastifyInstance, string>()
  for (const { name, request } of requests) {
    const answers = []
    for (const target of [lazy, eager]) {
      const res = await target.inject(request(tokens.get(target)))
      if (name === 'login') tokens.set(target, res.json().access)
      answers.push(answer(res))
    }
    t.same(answers[0], answers[1], name)
  }
  t.ok(tokens.get(lazy), 'the lazy app logged in')
  const me = await lazy.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(tokens.get(lazy)!) })
  t.notOk('password_hash' in me.json() || 'passwordHash' in me.json(), 'the serializer still drops what the schema does not declare')
})

t.test('a route with a headers schema is refused at start, not compiled to match header names differently', async t => {
  const app = Fastify({ schemaController: lazySchemaCompilers })
  t.teardown(() => app.close())
  app.get('/x', { schema: { headers: { type: 'object', properties: { 'X-Thing': { type: 'string' } } } } }, async () => 'ok')
  await t.rejects(async () => { await app.ready() }, /headers schemas are not supported/)
})
