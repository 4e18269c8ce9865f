// POST /oauth/introspect and /oauth/revoke: every kind of token, live and dead, and who may revoke what.
import t from 'tap'
import { build, loginUser, bearer } from '../../helper.js'
import { refreshRequest } from '../../admin-helper.js'
import { basic, basicOf, clientToken, introspectAs, makeClient, postForm, postJson, revokeAs } from '../../oauth-helper.js'

t.test('introspection of live tokens: user access, client access, refresh', async t => {
  const app = await build(t)
  const resourceServer = await makeClient(app, [], 'orders-api')
  const caller = await makeClient(app, ['orders.read'])
  const user = await loginUser(app)

  const access = await introspectAs(app, resourceServer, user.access)
  t.equal(access.statusCode, 200, access.body)
  t.equal(access.headers['cache-control'], 'no-store')
  t.match(access.json(), { active: true, sub: user.id, username: user.username, token_type: 'access_token', iss: app.config.jwtIssuer, aud: app.config.jwtAudience })
  t.type(access.json().sid, 'string')
  t.type(access.json().exp, 'number')
  t.type(access.json().iat, 'number')
  t.notOk('client_id' in access.json(), 'a user token was issued to no client')

  const token = await clientToken(app, caller)
  const client = await postJson(app, '/oauth/introspect', { token, client_id: resourceServer.client_id, client_secret: resourceServer.client_secret })
  t.equal(client.statusCode, 200, 'JSON body with body credentials')
  t.match(client.json(), { active: true, sub: caller.client_id, client_id: caller.client_id, scope: 'orders.read', token_type: 'access_token' })
  t.notOk('username' in client.json() || 'sid' in client.json())

  const refresh = await postForm(app, '/oauth/introspect', { token: user.refresh, token_type_hint: 'access_token' }, basicOf(resourceServer))
  t.match(refresh.json(), { active: true, sub: user.id, username: user.username, sid: access.json().sid, token_type: 'refresh_token' }, 'a wrong hint does not hide the token')
})

t.test('introspection of dead tokens is {active: false}', async t => {
  const app = await build(t)
  const rs = await makeClient(app, [])
  const inactive = async (token: string, why: string) => {
    const res = await introspectAs(app, rs, token)
    t.equal(res.statusCode, 200, why)
    t.same(res.json(), { active: false }, why)
  }

  for (const garbage of ['garbage', 'a.b.c', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'x'.repeat(8000)]) await inactive(garbage, `garbage ${garbage.slice(0, 12)}`)

  const loggedOut = await loginUser(app)
  await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh: loggedOut.refresh } })
  await inactive(loggedOut.access, 'access token of a revoked session')
  await inactive(loggedOut.refresh, 'refresh token of a revoked session')

  const banned = await loginUser(app)
  await app.repositories.users.update(banned.id, { isBanned: true })
  await inactive(banned.access, 'access token of a banned user')
  await inactive(banned.refresh, 'refresh token of a banned user')

  const rotated = await loginUser(app)
  t.equal((await refreshRequest(app, rotated.refresh)).statusCode, 200)
  await inactive(rotated.refresh, 'a rotated refresh token')

  const doomed = await makeClient(app, ['x'])
  const doomedToken = await clientToken(app, doomed)
  await app.repositories.serviceClients.delete(doomed.client_id, new Date())
  await inactive(doomedToken, 'token of a deleted client')

  const other = await makeClient(app, ['x'])
  const revokedToken = await clientToken(app, other)
  t.equal((await revokeAs(app, other, revokedToken)).statusCode, 200)
  await inactive(revokedToken, 'a revoked client token')
  const stillLive = await clientToken(app, other)
  t.equal((await introspectAs(app, rs, stillLive)).json().active, true, 'the client\'s other tokens live on')

  const missing = await postForm(app, '/oauth/introspect', {}, basicOf(rs))
  t.equal(missing.statusCode, 400)
  t.equal(missing.json().error, 'invalid_request')
  const unauthenticated = await postForm(app, '/oauth/introspect', { token: 'x' }, basic(rs.client_id, 'nope'))
  t.equal(unauthenticated.statusCode, 401)
  t.equal(unauthenticated.json().error, 'invalid_client')
  t.match(unauthenticated.headers['www-authenticate'], /^Basic /)
})

t.test('revocation of each kind of token', async t => {
  const app = await build(t)
  const client = await makeClient(app, ['x'])
  const otherClient = await makeClient(app, ['x'])

  const a = await loginUser(app)
  const res = await revokeAs(app, client, a.refresh)
  t.equal(res.statusCode, 200)
  t.same(res.json(), {})
  t.equal((await app.inject({ url: '/api/auth/me', headers: bearer(a.access) })).statusCode, 401, 'a refresh token ends its session: the access token dies here')
  t.equal((await refreshRequest(app, a.refresh)).statusCode, 401)

  const b = await loginUser(app)
  t.equal((await postJson(app, '/oauth/revoke', { token: b.access, token_type_hint: 'access_token' }, basicOf(client))).statusCode, 200)
  t.equal((await refreshRequest(app, b.refresh)).statusCode, 401, 'an access token ends its session: the refresh token dies')

  const mine = await clientToken(app, client)
  const notYours = await revokeAs(app, otherClient, mine)
  t.equal(notYours.statusCode, 400)
  t.equal(notYours.json().error, 'unauthorized_client', 'only the client a token was issued to revokes it')
  t.equal((await introspectAs(app, client, mine)).json().active, true)
  t.equal((await revokeAs(app, client, mine)).statusCode, 200)
  t.equal((await introspectAs(app, client, mine)).json().active, false)
  t.equal((await revokeAs(app, client, mine)).statusCode, 200, 'revoking twice is fine')
  const feed = await app.inject({ url: '/api/auth/revocations', headers: bearer(await clientToken(app, client)) })
  t.equal(feed.statusCode, 200, 'the client\'s other tokens still work')

  for (const junk of ['unknown', 'a.b.c', b.access]) {
    t.equal((await revokeAs(app, client, junk)).statusCode, 200, `nothing live to revoke: ${junk.slice(0, 10)}`)
  }
  const noAuth = await postForm(app, '/oauth/revoke', { token: 'x' })
  t.equal(noAuth.statusCode, 401)
  t.equal(noAuth.json().error, 'invalid_client')
  const noToken = await postForm(app, '/oauth/revoke', {}, basicOf(client))
  t.equal(noToken.json().error, 'invalid_request')
})
