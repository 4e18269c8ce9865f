import { generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify, type JWK } from 'jose'
import { build, loginUser, bearer, testDatabaseUrl } from '../helper.js'

function header (token: string) {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString())
}

t.test('with no configured key, one is generated on first start and kept across restarts', async t => {
  const env = { DATABASE_URL: await testDatabaseUrl(t), JWT_PRIVATE_KEY: '' }
  const first = await build(t, {}, { env })
  const user = await loginUser(first)
  const kid = header(user.access).kid
  await first.close()

  const second = await build(t, {}, { env })
  const jwks = (await second.inject({ url: '/.well-known/jwks.json' })).json()
  t.same(jwks.keys.map((k: JWK) => k.kid), [kid], 'the same key is published after a restart')
  const me = await second.inject({ url: '/api/auth/me', headers: bearer(user.access) })
  t.equal(me.statusCode, 200, 'a token issued before the restart is still valid')
})

t.test('kid is the RFC 7638 thumbprint of the public key, and the JWKS has no private members', async t => {
  const app = await build(t, {}, { env: { JWT_PRIVATE_KEY: '' } })
  const [key] = (await app.inject({ url: '/.well-known/jwks.json' })).json().keys
  const { kid, alg, use, ...publicMembers } = key
  t.equal(kid, await calculateJwkThumbprint(publicMembers, 'sha256'))
  t.equal(alg, 'RS256')
  t.equal(use, 'sig')
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) t.notOk(member in key, `no ${member}`)
})

t.test('a configured JWK private key signs, and tokens verify offline against the JWKS', async t => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = JSON.stringify(privateKey.export({ format: 'jwk' }))
  const app = await build(t, {}, { env: { JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: jwk } })
  const user = await loginUser(app)
  const jwks = (await app.inject({ url: '/.well-known/jwks.json' })).json()
  const { payload, protectedHeader } = await jwtVerify(user.access, createLocalJWKSet(jwks), {
    issuer: 'http://portcullis.test',
    audience: 'portcullis',
    algorithms: ['ES256'],
    typ: 'at+jwt'
  })
  t.equal(payload.sub, user.id)
  t.equal(protectedHeader.kid, jwks.keys[0].kid)
})

t.test('a configured key that does not fit the algorithm stops start-up', async t => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  await t.rejects(build(t, {}, { env: { JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: pem } }), /does not fit JWT_ALGORITHM=RS256/)
})

t.test('a malformed configured key stops start-up', async t => {
  await t.rejects(build(t, {}, { env: { JWT_PRIVATE_KEY: 'not a key' } }))
})

t.test('changing JWT_ALGORITHM generates a key for it; the old key stays published while its tokens may live', async t => {
  const env = { DATABASE_URL: await testDatabaseUrl(t), JWT_PRIVATE_KEY: '' }
  const first = await build(t, {}, { env })
  const rsaKid = header((await loginUser(first)).access).kid
  await first.close()

  const second = await build(t, {}, { env: { ...env, JWT_ALGORITHM: 'EdDSA' } })
  const user = await loginUser(second)
  t.equal(header(user.access).alg, 'EdDSA')
  const kids = (await second.inject({ url: '/.well-known/jwks.json' })).json().keys.map((k: JWK) => k.kid)
  t.equal(kids[0], header(user.access).kid, 'the active key comes first')
  t.ok(kids.includes(rsaKid), 'the stored RSA key is still published')
})

t.test('tokens signed with an unknown kid or another key are refused', async t => {
  const one = await build(t, {}, { env: { JWT_PRIVATE_KEY: '' } })
  const other = await build(t, {}, { env: { JWT_PRIVATE_KEY: '' } })
  const foreign = await loginUser(other)
  const res = await one.inject({ url: '/api/auth/me', headers: bearer(foreign.access) })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'token_not_valid')
})
