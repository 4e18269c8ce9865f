// POST /oauth/token: the client credentials grant, its client authentication and its RFC 6749 errors.
import t from 'tap'
import { build, bearer, loginUser } from '../../helper.js'
import { basic, basicOf, makeClient, postForm, postJson } from '../../oauth-helper.js'

const GRANT = { grant_type: 'client_credentials' }

function claimsOf (token: string) {
  const [header, payload] = token.split('.').slice(0, 2).map(part => JSON.parse(Buffer.from(part, 'base64url').toString()))
  return { header, payload }
}

t.test('a client gets a token with HTTP Basic or body credentials, form-encoded or JSON', async t => {
  const app = await build(t)
  const client = await makeClient(app)

  const viaBasicForm = await postForm(app, '/oauth/token', GRANT, basicOf(client))
  t.equal(viaBasicForm.statusCode, 200, viaBasicForm.body)
  t.equal(viaBasicForm.headers['cache-control'], 'no-store')
  t.equal(viaBasicForm.headers.pragma, 'no-cache')
  const body = viaBasicForm.json()
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, app.config.accessTokenTtl)
  t.equal(body.scope, 'orders.read orders.write', 'no scope asked: all of the client\'s')

  const viaBodyForm = await postForm(app, '/oauth/token', { ...GRANT, client_id: client.client_id, client_secret: client.client_secret })
  t.equal(viaBodyForm.statusCode, 200, viaBodyForm.body)
  const viaBasicJson = await postJson(app, '/oauth/token', { ...GRANT, scope: 'orders.read' }, basicOf(client))
  t.equal(viaBasicJson.statusCode, 200, viaBasicJson.body)
  t.equal(viaBasicJson.json().scope, 'orders.read')
  const viaBodyJson = await postJson(app, '/oauth/token', { ...GRANT, client_id: client.client_id, client_secret: client.client_secret })
  t.equal(viaBodyJson.statusCode, 200, viaBodyJson.body)

  const withCharset = await app.inject({ method: 'POST', url: '/oauth/token', headers: { ...basicOf(client), 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, payload: 'grant_type=client_credentials&unknown=ignored' })
  t.equal(withCharset.statusCode, 200, 'a charset parameter and unknown parameters are fine (RFC 6749 §3.2)')

  const row = app.repositories.serviceClients.findWithSecret(client.client_id)
  t.ok((await row)?.lastUsedAt, 'last_used_at is set')
})

t.test('the token names the client and carries no user claims', async t => {
  const app = await build(t)
  const client = await makeClient(app, ['orders.read', 'orders.write'])
  const res = await postForm(app, '/oauth/token', { ...GRANT, scope: 'orders.write orders.read' }, basicOf(client))
  const { header, payload } = claimsOf(res.json().access_token)
  t.equal(header.typ, 'at+jwt')
  t.equal(header.alg, 'RS256')
  t.type(header.kid, 'string')
  t.equal(payload.sub, client.client_id)
  t.equal(payload.client_id, client.client_id)
  t.equal(payload.scope, 'orders.read orders.write')
  t.equal(payload.token_type, 'access')
  t.equal(payload.iss, app.config.jwtIssuer)
  t.equal(payload.aud, app.config.jwtAudience)
  t.type(payload.jti, 'string')
  t.equal(payload.exp - payload.iat, app.config.accessTokenTtl)
  for (const claim of ['email', 'username', 'groups', 'permissions', 'user_id', 'sid', 'email_verified', 'is_staff']) {
    t.notOk(claim in payload, `no ${claim}`)
  }
})

t.test('a client token does not authenticate Portcullis\'s user endpoints', async t => {
  const app = await build(t)
  const client = await makeClient(app)
  const token = (await postForm(app, '/oauth/token', GRANT, basicOf(client))).json().access_token
  for (const url of ['/api/auth/me', '/api/auth/sessions']) {
    const res = await app.inject({ url, headers: bearer(token) })
    t.equal(res.statusCode, 401, url)
    t.equal(res.json().code, 'token_not_valid', url)
  }
  const verify = await app.inject({ method: 'POST', url: '/api/auth/token/verify', payload: { token } })
  t.equal(verify.statusCode, 401, 'token/verify refuses it too')
  const admin = await app.inject({ url: '/api/admin/clients', headers: bearer(token) })
  t.equal(admin.statusCode, 401)
})

t.test('client authentication failures are 401 invalid_client with a Basic challenge', async t => {
  const app = await build(t)
  const client = await makeClient(app)
  const cases: Array<[string, Awaited<ReturnType<typeof postForm>>]> = [
    ['wrong secret (Basic)', await postForm(app, '/oauth/token', GRANT, basic(client.client_id, 'wrong'))],
    ['unknown client (Basic)', await postForm(app, '/oauth/token', GRANT, basic('nobody', client.client_secret))],
    ['wrong secret (body)', await postForm(app, '/oauth/token', { ...GRANT, client_id: client.client_id, client_secret: 'wrong' })],
    ['unknown client (body)', await postJson(app, '/oauth/token', { ...GRANT, client_id: 'x'.repeat(200), client_secret: 'wrong' })],
    ['no credentials', await postForm(app, '/oauth/token', GRANT)],
    ['id without secret', await postForm(app, '/oauth/token', { ...GRANT, client_id: client.client_id })],
    ['malformed Basic', await postForm(app, '/oauth/token', GRANT, { authorization: 'Basic !!!' })],
    ['Basic without a colon', await postForm(app, '/oauth/token', GRANT, { authorization: `Basic ${Buffer.from('just-an-id').toString('base64')}` })],
    ['Basic with bad percent-encoding', await postForm(app, '/oauth/token', GRANT, { authorization: `Basic ${Buffer.from('%E0%A4%A:x').toString('base64')}` })]
  ]
  for (const [name, res] of cases) {
    t.equal(res.statusCode, 401, name)
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8', `${name}: not problem+json`)
    t.equal(res.json().error, 'invalid_client', name)
    t.type(res.json().error_description, 'string', name)
    t.match(res.headers['www-authenticate'], /^Basic realm="portcullis"/, name)
    t.equal(res.headers['cache-control'], 'no-store', name)
  }
})

t.test('request errors: both credentials, grant type, scope, malformed bodies', async t => {
  const app = await build(t)
  const client = await makeClient(app, ['orders.read'])
  const both = await postForm(app, '/oauth/token', { ...GRANT, client_id: client.client_id, client_secret: client.client_secret }, basicOf(client))
  t.equal(both.statusCode, 400)
  t.equal(both.json().error, 'invalid_request', 'credentials in Basic and in the body')

  const missing = await postForm(app, '/oauth/token', {}, basicOf(client))
  t.equal(missing.statusCode, 400)
  t.equal(missing.json().error, 'invalid_request')
  t.match(missing.json().error_description, /grant_type/)
  const blank = await postForm(app, '/oauth/token', { grant_type: '' }, basicOf(client))
  t.equal(blank.json().error, 'invalid_request', 'a blank parameter counts as absent')

  const unsupported = await postForm(app, '/oauth/token', { grant_type: 'password', username: 'a', password: 'b' }, basicOf(client))
  t.equal(unsupported.statusCode, 400)
  t.equal(unsupported.json().error, 'unsupported_grant_type')

  const unknownScope = await postForm(app, '/oauth/token', { ...GRANT, scope: 'orders.read admin' }, basicOf(client))
  t.equal(unknownScope.statusCode, 400)
  t.equal(unknownScope.json().error, 'invalid_scope')
  t.match(unknownScope.json().error_description, /"admin"/)
  const badSyntax = await postForm(app, '/oauth/token', { ...GRANT, scope: 'orders.read  "x"' }, basicOf(client))
  t.equal(badSyntax.json().error, 'invalid_scope', 'malformed scope')

  const repeated = await app.inject({ method: 'POST', url: '/oauth/token', headers: { ...basicOf(client), 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials&grant_type=client_credentials' })
  t.equal(repeated.statusCode, 400)
  t.equal(repeated.json().error, 'invalid_request', 'a repeated parameter')

  const bodies: Array<[string, string, string]> = [
    ['application/json', '{"grant_type":', 'broken JSON'],
    ['application/json', '"client_credentials"', 'a JSON string'],
    ['application/json', '[1,2]', 'a JSON array'],
    ['application/json', 'null', 'JSON null'],
    ['application/json', '{"grant_type": 5}', 'a number for a string'],
    ['text/plain', 'grant_type=client_credentials', 'text/plain'],
    ['application/x-www-form-urlencoded', '%%%', 'broken form encoding'],
    ['application/x-www-form-urlencoded', '', 'an empty form']
  ]
  for (const [type, payload, name] of bodies) {
    const res = await app.inject({ method: 'POST', url: '/oauth/token', headers: { ...basicOf(client), 'content-type': type }, payload })
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${name}: ${res.statusCode}`)
    t.type(res.json().error, 'string', `${name}: an OAuth error body`)
  }
  const huge = await postForm(app, '/oauth/token', { ...GRANT, pad: 'x'.repeat(70 * 1024) }, basicOf(client))
  t.equal(huge.statusCode, 413)
  t.equal(huge.json().error, 'invalid_request')

  const bodiless = await app.inject({ method: 'POST', url: '/oauth/token', headers: basicOf(client) })
  t.equal(bodiless.statusCode, 400)
  t.equal(bodiless.json().error, 'invalid_request')
})

t.test('form bodies stay out of the rest of the API', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `email=${user.email}&password=x` })
  t.equal(res.statusCode, 415)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
})

t.test('the token endpoint is rate-limited per client address', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_OAUTH_IP: '2/1m' } })
  const client = await makeClient(app)
  for (let i = 0; i < 2; i++) t.equal((await postForm(app, '/oauth/token', GRANT, basicOf(client))).statusCode, 200)
  const limited = await postForm(app, '/oauth/token', GRANT, basicOf(client))
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().error, 'rate_limited')
  t.ok(limited.headers['retry-after'])
})

t.test('the OpenAPI document describes the OAuth endpoints', async t => {
  const app = await build(t)
  const doc = (await app.inject({ url: '/docs/json' })).json()
  const token = doc.paths['/oauth/token'].post
  t.equal(token.operationId, 'oauthToken')
  t.same(Object.keys(token.requestBody.content).sort(), ['application/json', 'application/x-www-form-urlencoded'])
  t.same(Object.keys(token.responses).sort(), ['200', '400', '401', '413', '415', '429', '503'])
  t.equal(doc.paths['/oauth/introspect'].post.operationId, 'oauthIntrospect')
  t.equal(doc.paths['/oauth/revoke'].post.operationId, 'oauthRevoke')
  t.equal(doc.paths['/api/auth/revocations'].get.operationId, 'listRevocations')
  for (const id of ['createClient', 'listClients', 'deleteClient']) {
    t.ok(Object.values(doc.paths).some(item => Object.values(item as object).some(op => op.operationId === id)), id)
  }
})
