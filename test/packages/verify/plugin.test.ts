// The portcullis-verify plugin and its guards in a Fastify app: problem+json refusals like Portcullis's.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import portcullisVerify, { requireAcr, requireAuthentication, requirePermission, requireScope, type PortcullisVerifyOptions } from '@portcullis/verify'
import { startIssuer, type LocalIssuer } from '@portcullis/verify/testing'
import { waitUntil as until } from '../../wait-until.js'

async function setup (t: Test, options: Partial<PortcullisVerifyOptions> = {}): Promise<{ app: FastifyInstance, iss: LocalIssuer }> {
  const iss = await startIssuer()
  t.teardown(() => iss.close())
  const app = Fastify({ logger: false })
  await app.register(portcullisVerify, { issuer: iss.issuer, audience: iss.audience, ...options })
  app.get('/whoami', { onRequest: requireAuthentication }, async request => ({ sub: request.accessToken!.sub }))
  app.post('/posts', { onRequest: requirePermission('posts.add') }, async () => ({ ok: true }))
  app.post('/both', { onRequest: [requirePermission('posts.add'), requirePermission('posts.publish')] }, async () => ({ ok: true }))
  app.post('/sync', { onRequest: requireScope('posts.sync') }, async request => ({ client: request.accessToken!.client_id }))
  app.delete('/account', { onRequest: requireAcr('aal2') }, async request => ({ acr: request.accessToken!.acr }))
  t.teardown(() => app.close())
  await app.ready()
  return { app, iss }
}

function bearer (token: string) {
  return { authorization: `Bearer ${token}` }
}

t.test('no token: 401 not_authenticated with a Bearer challenge', async t => {
  const { app } = await setup(t)
  const res = await app.inject({ url: '/whoami' })
  t.equal(res.statusCode, 401)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.equal(res.headers['www-authenticate'], 'Bearer realm="api"')
  t.match(res.json(), { type: 'about:blank', title: 'Unauthorized', status: 401, code: 'not_authenticated', instance: '/whoami' })
})

t.test('a bad, expired or malformed token: 401 token_not_valid with error="invalid_token"', async t => {
  const { app, iss } = await setup(t, { realm: 'posts' })
  for (const authorization of ['Bearer not-a-jwt', `Bearer ${await iss.mint({}, { expiresIn: -60 })}`, 'Bearer a b', 'Bearer']) {
    const res = await app.inject({ url: '/whoami', headers: { authorization } })
    t.equal(res.statusCode, 401, authorization.slice(0, 20))
    t.equal(res.json().code, 'token_not_valid')
    t.equal(res.headers['www-authenticate'], 'Bearer realm="posts", error="invalid_token"')
  }
})

t.test('a valid token passes and the claims are on the request', async t => {
  const { app, iss } = await setup(t)
  const res = await app.inject({ url: '/whoami', headers: bearer(await iss.mint({ sub: 'ada' })) })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { sub: 'ada' })
})

t.test('requirePermission: 403 permission_denied without it, 200 with it; chained guards verify once', async t => {
  const { app, iss } = await setup(t)
  const without = await app.inject({ method: 'POST', url: '/posts', headers: bearer(await iss.mint({ permissions: ['posts.view'] })) })
  t.equal(without.statusCode, 403)
  t.match(without.json(), { status: 403, code: 'permission_denied', detail: /missing: posts\.add/ })
  t.notOk(without.headers['www-authenticate'])
  const withIt = await app.inject({ method: 'POST', url: '/posts', headers: bearer(await iss.mint({ permissions: ['posts.add'] })) })
  t.equal(withIt.statusCode, 200)
  const partial = await app.inject({ method: 'POST', url: '/both', headers: bearer(await iss.mint({ permissions: ['posts.add'] })) })
  t.match(partial.json(), { code: 'permission_denied', detail: /missing: posts\.publish/ })
  const malformed = await app.inject({ method: 'POST', url: '/posts', headers: bearer(await iss.mint({ permissions: 'posts.add' as unknown as string[] })) })
  t.equal(malformed.statusCode, 403, 'a permissions claim that is not a list grants nothing')
})

t.test('requireScope: client tokens by scope, with an insufficient_scope challenge', async t => {
  const { app, iss } = await setup(t)
  const ok = await app.inject({ method: 'POST', url: '/sync', headers: bearer(await iss.mintClientToken('indexer', ['posts.read', 'posts.sync'])) })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { client: 'indexer' })
  const denied = await app.inject({ method: 'POST', url: '/sync', headers: bearer(await iss.mintClientToken('indexer', ['posts.read'])) })
  t.equal(denied.statusCode, 403)
  t.equal(denied.json().code, 'permission_denied')
  t.equal(denied.headers['www-authenticate'], 'Bearer realm="api", error="insufficient_scope", scope="posts.sync"')
  const user = await app.inject({ method: 'POST', url: '/sync', headers: bearer(await iss.mint({ permissions: ['posts.sync'] })) })
  t.equal(user.statusCode, 403, 'a user permission is not a scope')
})

t.test('requireAcr: 401 step_up_required with the RFC 9470 challenge below aal2, 200 at aal2', async t => {
  const { app, iss } = await setup(t)
  for (const claims of [{}, { acr: 'aal1' }, { acr: 'aal3' }, { acr: ['aal2'] as unknown as string }]) {
    const res = await app.inject({ method: 'DELETE', url: '/account', headers: bearer(await iss.mint(claims)) })
    t.equal(res.statusCode, 401, JSON.stringify(claims))
    t.match(res.json(), { status: 401, code: 'step_up_required' })
    t.equal(res.headers['www-authenticate'], 'Bearer realm="api", error="insufficient_user_authentication", acr_values="aal2"')
  }
  const client = await app.inject({ method: 'DELETE', url: '/account', headers: bearer(await iss.mintClientToken('indexer', ['x'])) })
  t.equal(client.json().code, 'step_up_required', 'a client token has no acr')
  const raised = await app.inject({ method: 'DELETE', url: '/account', headers: bearer(await iss.mint({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] })) })
  t.equal(raised.statusCode, 200)
  t.same(raised.json(), { acr: 'aal2' })
  const none = await app.inject({ method: 'DELETE', url: '/account' })
  t.equal(none.json().code, 'not_authenticated', 'authentication first')
  t.throws(() => requireAcr('aal9' as 'aal2'), /unknown level/)
})

t.test('revocations from the feed: by sid and by sub not_before, within the poll interval', async t => {
  const { app, iss } = await setup(t, { revocations: { intervalMs: 50 } })
  const sessionToken = await iss.mint({ sub: 'u1', sid: 's1' })
  const userToken = await iss.mint({ sub: 'u2' })
  const status = async (token: string) => (await app.inject({ url: '/whoami', headers: bearer(token) })).statusCode
  t.equal(await status(sessionToken), 200)
  t.equal(await status(userToken), 200)
  iss.revoke({ sid: 's1' })
  iss.revoke({ sub: 'u2', not_before: new Date(Date.now() + 1000).toISOString() })
  await until(async () => await status(sessionToken) === 401 && await status(userToken) === 401)
  t.pass('both refused after a poll')
  t.equal(await status(await iss.mint({ sub: 'u1', sid: 's9' })), 200, 'another session of u1 still works')
})

t.test('the feed down: the service keeps answering from the last known revocations', async t => {
  const { app, iss } = await setup(t, { revocations: { intervalMs: 20 } })
  const revoked = await iss.mint({ sid: 's1' })
  iss.revoke({ sid: 's1' })
  await app.portcullis.revocations!.poll()
  iss.setFeedAvailable(false)
  const seen = iss.requests.revocations
  await until(async () => iss.requests.revocations >= seen + 3)
  t.equal((await app.inject({ url: '/whoami', headers: bearer(revoked) })).statusCode, 401)
  t.equal((await app.inject({ url: '/whoami', headers: bearer(await iss.mint()) })).statusCode, 200)
})

t.test('an unreachable key set: 503 service_unavailable, never a 401 that would log the user out', async t => {
  const { app, iss } = await setup(t)
  const token = await iss.mint()
  await iss.close()
  const res = await app.inject({ url: '/whoami', headers: bearer(token) })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'service_unavailable')
  t.equal(res.headers['retry-after'], '5')
})

t.test('closing the app stops the feed poller', async t => {
  const { app, iss } = await setup(t, { revocations: { intervalMs: 20 } })
  await app.close()
  const count = iss.requests.revocations
  await new Promise(resolve => setTimeout(resolve, 100))
  t.equal(iss.requests.revocations, count)
})

t.test('issuer and audience are required; a guard without the plugin says so', async t => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  app.register(portcullisVerify, { issuer: '', audience: 'x' })
  await t.rejects(async () => { await app.ready() }, /needs `issuer` and `audience`/)
  const bare = Fastify({ logger: false })
  t.teardown(() => bare.close())
  bare.get('/', { onRequest: requireAuthentication }, async () => 'no')
  const res = await bare.inject({ url: '/' })
  t.equal(res.statusCode, 500)
})
