import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import { calculateJwkThumbprint, createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose'
import * as client from 'openid-client'
import { build, bearer, loginUser } from '../helper.js'
import { makeClient } from '../oauth-helper.js'

const ISSUER = 'http://portcullis.test'
const AUDIENCE = 'portcullis'
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']
const HS256_ENV = { JWT_ALGORITHM: 'HS256', JWT_SECRET: 'a shared secret of at least thirty-two bytes' }

async function jwks (app: FastifyInstance): Promise<{ keys: JWK[] }> {
  const res = await app.inject({ url: '/.well-known/jwks.json' })
  if (res.statusCode !== 200) throw new Error(`jwks answered ${res.statusCode}`)
  return res.json()
}

t.test('the JWKS publishes the RSA public key with kid, alg RS256 and use sig', async t => {
  const app = await build(t)
  const res = await app.inject({ url: '/.well-known/jwks.json' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const { keys } = res.json() as { keys: JWK[] }
  t.equal(keys.length, 1)
  const [key] = keys
  t.equal(key.kty, 'RSA')
  t.equal(key.alg, 'RS256')
  t.equal(key.use, 'sig')
  t.type(key.kid, 'string')
  t.type(key.n, 'string')
  t.equal(key.e, 'AQAB')
  t.ok(Buffer.from(key.n as string, 'base64url').length >= 256, 'a modulus of 2048 bits or more')
  t.equal(key.kid, await calculateJwkThumbprint(key, 'sha256'), 'the kid is the RFC 7638 thumbprint')
})

t.test('the JWKS never contains private key members', async t => {
  for (const algorithm of ['RS256', 'ES256', 'EdDSA']) {
    const app = await build(t, {}, { env: { JWT_ALGORITHM: algorithm } })
    const res = await app.inject({ url: '/.well-known/jwks.json' })
    const { keys } = res.json() as { keys: Array<Record<string, unknown>> }
    t.ok(keys.length > 0, `${algorithm} publishes a key`)
    for (const key of keys) {
      for (const member of PRIVATE_MEMBERS) t.notOk(member in key, `${algorithm} key has no ${member}`)
    }
    t.notMatch(res.body, /PRIVATE KEY/)
  }
})

t.test('the JWKS is cacheable publicly, with an ETag that answers 304 to If-None-Match', async t => {
  const app = await build(t)
  const first = await app.inject({ url: '/.well-known/jwks.json' })
  t.match(first.headers['cache-control'], /(^|, *)public(,|$)/)
  t.match(first.headers['cache-control'], /max-age=\d+/)
  t.ok(Number(/max-age=(\d+)/.exec(String(first.headers['cache-control']))?.[1]) > 0)
  const etag = first.headers.etag as string
  t.match(etag, /^"[^"]+"$/, 'a strong, quoted ETag')

  const again = await app.inject({ url: '/.well-known/jwks.json' })
  t.equal(again.headers.etag, etag, 'the same keys have the same ETag')

  const notModified = await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': etag } })
  t.equal(notModified.statusCode, 304)
  t.equal(notModified.body, '')
  t.equal(notModified.headers.etag, etag)
  t.match(notModified.headers['cache-control'], /max-age=\d+/)

  const stale = await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': '"something-else"' } })
  t.equal(stale.statusCode, 200)
  t.same(stale.json(), first.json())
})

t.test('different keys have different ETags', async t => {
  const rsa = await build(t)
  const ec = await build(t, {}, { env: { JWT_ALGORITHM: 'ES256' } })
  const a = await rsa.inject({ url: '/.well-known/jwks.json' })
  const b = await ec.inject({ url: '/.well-known/jwks.json' })
  t.not(a.headers.etag, b.headers.etag)
  const cross = await rsa.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': b.headers.etag as string } })
  t.equal(cross.statusCode, 200)
})

t.test('the published kid is the kid in the access token header', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const header = decodeProtectedHeader(user.access)
  const { keys } = await jwks(app)
  t.equal(header.alg, 'RS256')
  t.equal(header.typ, 'at+jwt')
  t.same(keys.map(k => k.kid), [header.kid])
})

t.test('an access token verifies offline against the JWKS with jose', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const keySet = createLocalJWKSet(await jwks(app))
  const { payload, protectedHeader } = await jwtVerify(user.access, keySet, {
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['RS256'],
    typ: 'at+jwt',
    requiredClaims: ['exp', 'iat', 'jti', 'sub']
  })
  t.equal(protectedHeader.alg, 'RS256')
  t.equal(payload.sub, user.id)
  t.equal(payload.token_type, 'access')
  await t.rejects(jwtVerify(user.access, keySet, { issuer: ISSUER, audience: 'another-service' }), 'the audience is checked')
  await t.rejects(jwtVerify(user.access, keySet, { issuer: 'https://evil.example', audience: AUDIENCE }), 'the issuer is checked')
  const [head, body, signature] = user.access.split('.')
  const flipped = `${head}.${body}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`
  await t.rejects(jwtVerify(flipped, keySet, { issuer: ISSUER, audience: AUDIENCE }), 'a tampered signature fails')
})

t.test('a token of one deployment does not verify against another deployment\'s JWKS', async t => {
  const one = await build(t, {}, { env: { JWT_ALGORITHM: 'ES256' } })
  const other = await build(t, {}, { env: { JWT_ALGORITHM: 'ES256' } })
  const user = await loginUser(one)
  await t.rejects(jwtVerify(user.access, createLocalJWKSet(await jwks(other)), { issuer: ISSUER, audience: AUDIENCE }))
})

for (const [algorithm, kty, crv] of [['ES256', 'EC', 'P-256'], ['EdDSA', 'OKP', 'Ed25519']]) {
  t.test(`an ${algorithm} deployment issues tokens that verify against its JWKS`, async t => {
    const app = await build(t, {}, { env: { JWT_ALGORITHM: algorithm } })
    const user = await loginUser(app)
    const set = await jwks(app)
    t.equal(set.keys.length, 1)
    const [key] = set.keys
    t.equal(key.kty, kty)
    t.equal(key.crv, crv)
    t.equal(key.alg, algorithm)
    t.equal(key.use, 'sig')
    t.type(key.x, 'string')
    if (kty === 'EC') t.type(key.y, 'string')
    const header = decodeProtectedHeader(user.access)
    t.equal(header.alg, algorithm)
    t.equal(header.kid, key.kid)
    const { payload } = await jwtVerify(user.access, createLocalJWKSet(set), { issuer: ISSUER, audience: AUDIENCE, algorithms: [algorithm] })
    t.equal(payload.sub, user.id)
    const me = await app.inject({ url: '/api/auth/me', headers: bearer(user.access) })
    t.equal(me.statusCode, 200)
    t.equal(me.json().id, user.id)
  })
}

t.test('an HS256 deployment publishes an empty key set and still authenticates', async t => {
  const app = await build(t, {}, { env: HS256_ENV })
  const res = await app.inject({ url: '/.well-known/jwks.json' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { keys: [] })
  t.notMatch(res.body, HS256_ENV.JWT_SECRET)
  const user = await loginUser(app)
  const header = decodeProtectedHeader(user.access)
  t.equal(header.alg, 'HS256')
  const me = await app.inject({ url: '/api/auth/me', headers: bearer(user.access) })
  t.equal(me.statusCode, 200)
  t.equal(me.json().id, user.id)
  const verify = await app.inject({ method: 'POST', url: '/api/auth/token/verify', payload: { token: user.access } })
  t.equal(verify.statusCode, 200)
  const discovery = await app.inject({ url: '/.well-known/openid-configuration' })
  t.same(discovery.json().access_token_signing_alg_values_supported, ['HS256'])
  t.notMatch(discovery.body, HS256_ENV.JWT_SECRET)
})

t.test('the discovery document says exactly what exists: issuer, key set, algorithm, the client-credentials token endpoint, introspection, revocation', async t => {
  const app = await build(t)
  const res = await app.inject({ url: '/.well-known/openid-configuration' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.match(res.headers['cache-control'], /public/)
  const doc = res.json()
  t.same(doc, {
    issuer: ISSUER,
    jwks_uri: `${ISSUER}/.well-known/jwks.json`,
    token_endpoint: `${ISSUER}/oauth/token`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    introspection_endpoint: `${ISSUER}/oauth/introspect`,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint: `${ISSUER}/oauth/revoke`,
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    response_types_supported: [],
    access_token_signing_alg_values_supported: ['RS256'],
    audience: AUDIENCE,
    service_documentation: `${ISSUER}/docs`
  }, 'no ID-token algorithms, userinfo or registration: none of them exists')
  const rfc8414 = await app.inject({ url: '/.well-known/oauth-authorization-server' })
  t.equal(rfc8414.statusCode, 200)
  t.same(rfc8414.json(), doc, 'the RFC 8414 address serves the same metadata')
  t.equal(rfc8414.headers['cache-control'], res.headers['cache-control'])
  for (const [name, url] of Object.entries<string>(doc).filter(([key]) => key.endsWith('_endpoint') || key === 'jwks_uri' || key === 'service_documentation')) {
    const path = new URL(url).pathname
    const probe = await app.inject({ method: name.endsWith('_endpoint') ? 'POST' : 'GET', url: path, payload: name.endsWith('_endpoint') ? {} : undefined })
    t.not(probe.statusCode, 404, `${name} (${path}) exists`)
  }
  const noDocs = await build(t, {}, { env: { DOCS_ENABLED: 'false' } })
  t.notOk('service_documentation' in (await noDocs.inject({ url: '/.well-known/openid-configuration' })).json(), 'no documentation link without /docs')
})

t.test('openid-client configures itself from either discovery address and runs client credentials, introspection and revocation', async t => {
  // The issuer must be the address the client asks, so the app learns its port before it listens.
  const probe = createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const port = (probe.address() as AddressInfo).port
  probe.close()
  await once(probe, 'close')
  const issuer = `http://127.0.0.1:${port}`
  const app = await build(t, {}, { env: { PUBLIC_URL: issuer } })
  await app.listen({ port, host: '127.0.0.1' })
  const registered = await makeClient(app, ['orders.read'])

  for (const algorithm of ['oidc', 'oauth2'] as const) {
    const configuration = await client.discovery(new URL(issuer), registered.client_id, undefined,
      client.ClientSecretBasic(registered.client_secret), { algorithm, execute: [client.allowInsecureRequests] })
    const metadata = configuration.serverMetadata()
    t.equal(metadata.issuer, issuer, `${algorithm}: the issuer matches`)
    t.equal(metadata.token_endpoint, `${issuer}/oauth/token`)

    const tokens = await client.clientCredentialsGrant(configuration, { scope: 'orders.read' })
    t.equal(tokens.token_type, 'bearer', `${algorithm}: a client access token from the token endpoint`)
    t.equal(tokens.scope, 'orders.read')
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(metadata.jwks_uri!)), {
      issuer: metadata.issuer, audience: metadata.audience as string, algorithms: metadata.access_token_signing_alg_values_supported as string[]
    })
    t.equal(payload.client_id, registered.client_id, `${algorithm}: it verifies against the advertised key set, issuer, audience and algorithm`)

    const live = await client.tokenIntrospection(configuration, tokens.access_token)
    t.equal(live.active, true, `${algorithm}: introspection at the advertised endpoint`)
    await client.tokenRevocation(configuration, tokens.access_token)
    const revoked = await client.tokenIntrospection(configuration, tokens.access_token)
    t.equal(revoked.active, false, `${algorithm}: revoked at the advertised endpoint`)
  }
})

t.test('the discovery issuer and algorithm follow the configuration', async t => {
  const app = await build(t, {}, { env: { JWT_ALGORITHM: 'EdDSA', JWT_ISSUER: 'https://auth.example.com', PUBLIC_URL: 'https://portcullis.example.com' } })
  const doc = (await app.inject({ url: '/.well-known/openid-configuration' })).json()
  t.equal(doc.issuer, 'https://auth.example.com')
  t.equal(doc.jwks_uri, 'https://portcullis.example.com/.well-known/jwks.json')
  t.same(doc.access_token_signing_alg_values_supported, ['EdDSA'])
  const user = await loginUser(app)
  const { payload } = await jwtVerify(user.access, createLocalJWKSet(await jwks(app)), { issuer: doc.issuer, audience: doc.audience })
  t.equal(payload.iss, doc.issuer, 'a verifier configured from discovery accepts the tokens')
})

t.test('If-None-Match matches weak tags, lists and *', async t => {
  const app = await build(t)
  const first = await app.inject({ url: '/.well-known/jwks.json' })
  const etag = String(first.headers.etag)
  for (const header of [`W/${etag}`, `"other", ${etag}`, '*']) {
    const res = await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': header } })
    t.equal(res.statusCode, 304, header)
  }
  const miss = await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': '"other"' } })
  t.equal(miss.statusCode, 200)
})
