// The kit against a real Portcullis over HTTP: a client token revoked through /oauth/revoke reaches
// the kit through the feed ({jti}), and the kit refuses it.
import t from 'tap'
import type { AddressInfo } from 'node:net'
import { createRevocationFeed, verifyAccessToken, type Algorithm } from '@portcullis/verify'
import { build } from '../../helper.js'
import { clientToken, makeClient, revokeAs } from '../../oauth-helper.js'

t.test('a client token revoked through /oauth/revoke is refused by the kit once the feed is polled', async t => {
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const client = await makeClient(app)
  const feed = createRevocationFeed({ url: `${url}/api/auth/revocations`, client: { id: client.client_id, secret: client.client_secret } })
  const options = {
    issuer: app.config.jwtIssuer,
    audience: app.config.jwtAudience,
    algorithms: [app.config.jwtAlgorithm as Algorithm],
    jwksUrl: `${url}/.well-known/jwks.json`,
    maxTokenLifetimeSeconds: app.config.accessTokenTtl,
    revocations: feed
  }
  const revoked = await clientToken(app, client)
  const other = await clientToken(app, client)
  t.equal(await feed.poll(), true)
  t.equal((await verifyAccessToken(revoked, options)).client_id, client.client_id, 'live before the revocation')
  t.equal((await revokeAs(app, client, revoked)).statusCode, 200)
  t.equal(await feed.poll(), true)
  await t.rejects(verifyAccessToken(revoked, options), { name: 'TokenInvalidError', reason: /token was revoked/ })
  t.ok(await verifyAccessToken(other, options), 'the client\'s other tokens still pass')
})
