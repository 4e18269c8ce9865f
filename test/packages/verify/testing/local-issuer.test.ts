// The test kit's issuer looks like Portcullis from the outside: discovery, JWKS, feed, and nothing else.
import t from 'tap'
import { decodeProtectedHeader, decodeJwt } from 'jose'
import { startIssuer } from '@portcullis/verify/testing'

t.test('discovery names the issuer, the key set and the algorithm', async t => {
  const issuer = await startIssuer({ algorithm: 'ES256', audience: 'posts' })
  t.teardown(() => issuer.close())
  const discovery = await (await fetch(`${issuer.url}/.well-known/openid-configuration`)).json()
  t.same(discovery, { issuer: issuer.issuer, jwks_uri: issuer.jwksUrl, access_token_signing_alg_values_supported: ['ES256'], audience: 'posts' })
  t.equal(issuer.requests.discovery, 1)
})

t.test('minted tokens have Portcullis\'s header and claims; client tokens have no user claims', async t => {
  const issuer = await startIssuer()
  t.teardown(() => issuer.close())
  const token = await issuer.mint({ username: 'ada' })
  t.match(decodeProtectedHeader(token), { alg: 'RS256', typ: 'at+jwt', kid: String })
  const claims = decodeJwt(token)
  t.match(claims, { iss: issuer.issuer, aud: 'portcullis', token_type: 'access', username: 'ada', email: 'ada@example.com', email_verified: true, is_staff: false, groups: [], permissions: [] })
  t.equal(claims.user_id, claims.sub)
  t.equal(claims.exp! - claims.iat!, 300)
  const client = decodeJwt(await issuer.mintClientToken('indexer', ['a', 'b']))
  t.same(Object.keys(client).sort(), ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub', 'token_type'])
})

t.test('other paths are 404 and other methods 405', async t => {
  const issuer = await startIssuer()
  t.teardown(() => issuer.close())
  t.equal((await fetch(`${issuer.url}/nothing`)).status, 404)
  t.equal((await fetch(issuer.jwksUrl, { method: 'POST' })).status, 405)
})
