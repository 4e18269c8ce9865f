// The posts example tested as a downstream team would: with @portcullis/verify/testing, no Portcullis process.
import t, { type Test } from 'tap'
import { startIssuer } from '@portcullis/verify/testing'
import { buildPostsApp } from '../../examples/posts/app.js'

async function setup (t: Test) {
  const issuer = await startIssuer()
  t.teardown(() => issuer.close())
  const app = await buildPostsApp({
    portcullis: { issuer: issuer.issuer, audience: issuer.audience, revocations: { url: issuer.revocationsUrl, intervalMs: 50 } }
  })
  t.teardown(() => app.close())
  await app.ready()
  return { issuer, app }
}

const post = { title: 'Hello', body: 'First post' }

t.test('anyone may read; writing needs a token with posts.add', async t => {
  const { issuer, app } = await setup(t)
  t.equal((await app.inject({ url: '/posts' })).statusCode, 200)

  const anonymous = await app.inject({ method: 'POST', url: '/posts', payload: post })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, 'not_authenticated')

  const reader = await issuer.mint({ sub: 'reader', permissions: ['posts.view'] })
  const denied = await app.inject({ method: 'POST', url: '/posts', payload: post, headers: { authorization: `Bearer ${reader}` } })
  t.equal(denied.statusCode, 403)
  t.equal(denied.json().code, 'permission_denied')

  const writer = await issuer.mint({ sub: 'writer', permissions: ['posts.add'] })
  const created = await app.inject({ method: 'POST', url: '/posts', payload: post, headers: { authorization: `Bearer ${writer}` } })
  t.equal(created.statusCode, 201)
  t.match(created.json(), { id: 1, title: 'Hello', author: 'writer' })
  t.match((await app.inject({ url: '/posts' })).json(), [{ title: 'Hello' }])
})

t.test('a logout-all in the issuer\'s feed ends the writer\'s token', async t => {
  const { issuer, app } = await setup(t)
  const writer = await issuer.mint({ sub: 'writer', permissions: ['posts.add'] })
  const write = () => app.inject({ method: 'POST', url: '/posts', payload: post, headers: { authorization: `Bearer ${writer}` } })
  t.equal((await write()).statusCode, 201)
  issuer.revoke({ sub: 'writer', not_before: new Date(Date.now() + 1000).toISOString() })
  await app.portcullis.revocations!.poll()
  const refused = await write()
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().code, 'token_not_valid')
})
