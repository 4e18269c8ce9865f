// /api/admin/clients: create (the secret once, stored hashed), list, delete; 400/401/403/404.
import { createHash } from 'node:crypto'
import t from 'tap'
import { build } from '../../../helper.js'
import { call, expectProblem, loginAs } from '../../../admin-helper.js'
import { basicOf, postForm } from '../../../oauth-helper.js'

t.test('create shows the secret once; list and delete; the secret works and is stored hashed', async t => {
  const app = await build(t)
  const admin = await loginAs(app, { permissions: ['clients.manage'] })
  const created = await call(app, admin.access, 'POST', '/api/admin/clients', { name: 'billing', scopes: ['orders.write', 'orders.read'] })
  t.equal(created.statusCode, 201, created.body)
  t.equal(created.headers['cache-control'], 'no-store')
  const client = created.json()
  t.same(Object.keys(client).sort(), ['client_id', 'client_secret', 'created_at', 'last_used_at', 'name', 'scopes'])
  t.same(client.scopes, ['orders.read', 'orders.write'])
  t.equal(client.last_used_at, null)
  t.ok(client.client_secret.length >= 43, '256 bits')

  const stored = await app.repositories.serviceClients.findWithSecret(client.client_id)
  t.equal(stored?.secretHash, createHash('sha256').update(client.client_secret).digest('hex'), 'only the SHA-256 is stored')
  t.notOk(JSON.stringify(stored).includes(client.client_secret), 'no clear secret in the stored row (the CLI test reads the table itself)')

  t.equal((await postForm(app, '/oauth/token', { grant_type: 'client_credentials' }, basicOf(client))).statusCode, 200)
  const list = await call(app, admin.access, 'GET', '/api/admin/clients')
  t.equal(list.statusCode, 200)
  t.equal(list.json().length, 1)
  t.notOk('client_secret' in list.json()[0], 'the secret is never listed')
  t.same(list.json()[0].scopes, ['orders.read', 'orders.write'])
  t.type(list.json()[0].last_used_at, 'string', 'last used is set by the token request')

  t.equal((await call(app, admin.access, 'DELETE', `/api/admin/clients/${client.client_id}`)).statusCode, 204)
  t.same((await call(app, admin.access, 'GET', '/api/admin/clients')).json(), [])
  expectProblem(t, await call(app, admin.access, 'DELETE', `/api/admin/clients/${client.client_id}`), 404, 'not_found')
  const gone = await postForm(app, '/oauth/token', { grant_type: 'client_credentials' }, basicOf(client))
  t.equal(gone.json().error, 'invalid_client', 'a deleted client gets no token')
})

t.test('401 without a token, 403 without clients.manage', async t => {
  const app = await build(t)
  const staff = await loginAs(app, { staff: true, permissions: ['users.view'] })
  expectProblem(t, await call(app, undefined, 'GET', '/api/admin/clients'), 401, 'not_authenticated')
  expectProblem(t, await call(app, undefined, 'POST', '/api/admin/clients', { name: 'x', scopes: [] }), 401, 'not_authenticated')
  expectProblem(t, await call(app, staff.access, 'GET', '/api/admin/clients'), 403, 'permission_denied')
  expectProblem(t, await call(app, staff.access, 'POST', '/api/admin/clients', { name: 'x', scopes: [] }), 403, 'permission_denied')
  expectProblem(t, await call(app, staff.access, 'DELETE', '/api/admin/clients/x'), 403, 'permission_denied')
})

t.test('bad bodies are 400 validation_failed', async t => {
  const app = await build(t)
  const admin = await loginAs(app, { superuser: true })
  const bodies: Array<[string, object]> = [
    ['no name', { scopes: [] }],
    ['no scopes', { name: 'x' }],
    ['empty name', { name: '', scopes: [] }],
    ['control character in the name', { name: 'a\u0000b', scopes: [] }],
    ['scope with a space', { name: 'x', scopes: ['a b'] }],
    ['scope with a quote', { name: 'x', scopes: ['a"b'] }],
    ['empty scope', { name: 'x', scopes: [''] }],
    ['scope too long', { name: 'x', scopes: ['a'.repeat(101)] }],
    ['duplicate scopes', { name: 'x', scopes: ['a', 'a'] }],
    ['too many scopes', { name: 'x', scopes: Array.from({ length: 51 }, (_, i) => `s${i}`) }],
    ['unknown field', { name: 'x', scopes: [], client_secret: 'mine' }],
    ['scopes as a string', { name: 'x', scopes: 'a b' }]
  ]
  for (const [name, body] of bodies) expectProblem(t, await call(app, admin.access, 'POST', '/api/admin/clients', body), 400, 'validation_failed', name)
  const empty = await call(app, admin.access, 'POST', '/api/admin/clients', { name: 'feed reader', scopes: [] })
  t.equal(empty.statusCode, 201, 'a client without scopes')
  expectProblem(t, await call(app, admin.access, 'DELETE', `/api/admin/clients/${'x'.repeat(65)}`), 400, 'validation_failed', 'an over-long id')
})
