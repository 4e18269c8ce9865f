// The key ring through the app: rotation on demand and on an interval, the JWKS over time (on the
// injected clock), verification by kid, the configured-key and HS256 refusals, the admin guard.
import { generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose'
import { build, testDatabaseUrl, testPrivateKey } from '../../../helper.js'
import { BUILTIN_PERMISSIONS, call, expectProblem, loginAs, me } from '../../../admin-helper.js'

// Stored keys (no JWT_PRIVATE_KEY); defaults: ACCESS_TOKEN_TTL 5m, JWKS_MAX_AGE 5m, reload 10s.
const STORED = { JWT_PRIVATE_KEY: '' }
const ACTIVATION_MS = (300 + 10) * 1000
const RETENTION_MS = (300 + 60) * 1000
const HS256_ENV = { JWT_ALGORITHM: 'HS256', JWT_SECRET: 'a shared secret of at least thirty-two bytes' }

/** A clock the test moves; the app reads it for key schedules and sessions. */
function clock () {
  let now = Date.now()
  return { now: () => new Date(now), advance (ms: number) { now += ms } }
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid

async function jwks (app: FastifyInstance) {
  const res = await app.inject({ url: '/.well-known/jwks.json' })
  t.equal(res.statusCode, 200)
  return { kids: (res.json().keys as JWK[]).map(k => k.kid), body: res.json() as { keys: JWK[] }, etag: String(res.headers.etag), res }
}

function rotate (app: FastifyInstance, access: string, payload?: object) {
  return call(app, access, 'POST', '/api/admin/keys/rotate', payload)
}

t.test('a rotation publishes the new key first, signs with it after the delay, and drops the old key after its tokens expired', async t => {
  const time = clock()
  const app = await build(t, {}, { now: time.now, env: STORED })
  const root = await loginAs(app, { superuser: true })
  const oldKid = kidOf(root.access)
  const before = await jwks(app)
  t.same(before.kids, [oldKid])

  const res = await rotate(app, root.access)
  t.equal(res.statusCode, 200, res.body)
  const { kid: newKid, signs_from: signsFrom, retired } = res.json()
  t.not(newKid, oldKid)
  t.same(retired, [oldKid])
  t.equal(Date.parse(signsFrom), time.now().getTime() + ACTIVATION_MS, 'signs after JWKS_MAX_AGE plus the reload interval')

  const during = await jwks(app)
  t.same(during.kids, [oldKid, newKid], 'the new key is published at once, after the signer')
  t.not(during.etag, before.etag, 'another key set, another ETag')
  t.equal((await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': before.etag } })).statusCode, 200, 'the old ETag no longer matches')
  t.equal(kidOf((await loginAs(app)).access), oldKid, 'the old key signs until the new one takes over')

  time.advance(ACTIVATION_MS)
  const fresh = await loginAs(app)
  t.equal(kidOf(fresh.access), newKid, 'new tokens carry the new kid')
  t.same((await jwks(app)).kids, [newKid, oldKid], 'the retired key stays published')
  t.equal((await me(app, root.access)).statusCode, 200, 'a token of the retired key is still valid')

  time.advance(RETENTION_MS - 1000)
  t.same((await jwks(app)).kids, [newKid, oldKid], 'published until every token it signed has expired, plus the margin')
  time.advance(1000)
  const after = await jwks(app)
  t.same(after.kids, [newKid], 'then it leaves the JWKS')
  expectProblem(t, await me(app, root.access), 401, 'token_not_valid', 'and its tokens are refused, though not expired')
  t.equal((await me(app, fresh.access)).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/token/verify', payload: { token: root.access } })).statusCode, 401, 'token/verify agrees')

  const { payload } = await jwtVerify(fresh.access, createLocalJWKSet(after.body), { issuer: 'http://portcullis.test', audience: 'portcullis' })
  t.equal(payload.sub, fresh.id, 'the new tokens verify offline against the JWKS')
})

t.test('the JWKS ETag answers 304 until the key set changes', async t => {
  const time = clock()
  const app = await build(t, {}, { now: time.now, env: STORED })
  const root = await loginAs(app, { superuser: true })
  const { etag, res } = await jwks(app)
  t.equal(res.headers['cache-control'], 'public, max-age=300')
  t.equal((await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': etag } })).statusCode, 304)
  t.equal((await rotate(app, root.access)).statusCode, 200)
  const changed = await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': etag } })
  t.equal(changed.statusCode, 200, 'the old ETag no longer matches')
  t.equal(changed.json().keys.length, 2)
  t.equal((await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': String(changed.headers.etag) } })).statusCode, 304)
})

t.test('JWKS_MAX_AGE sets the Cache-Control and the activation delay', async t => {
  const time = clock()
  const app = await build(t, {}, { now: time.now, env: { ...STORED, JWKS_MAX_AGE: '30s', JWT_KEY_RELOAD_INTERVAL: '5s' } })
  const root = await loginAs(app, { superuser: true })
  t.equal((await jwks(app)).res.headers['cache-control'], 'public, max-age=30')
  t.equal((await app.inject({ url: '/.well-known/openid-configuration' })).headers['cache-control'], 'public, max-age=30')
  const res = await rotate(app, root.access)
  t.equal(Date.parse(res.json().signs_from), time.now().getTime() + 35_000)
})

t.test('an immediate rotation signs with the new key at once', async t => {
  const app = await build(t, {}, { env: STORED })
  const root = await loginAs(app, { superuser: true })
  const res = await rotate(app, root.access, { immediate: true })
  t.equal(res.statusCode, 200)
  const user = await loginAs(app)
  t.equal(kidOf(user.access), res.json().kid)
  t.equal((await me(app, root.access)).statusCode, 200, 'the previous key\'s tokens stay valid')
  t.same((await jwks(app)).kids, [res.json().kid, kidOf(root.access)])
})

for (const algorithm of ['ES256', 'EdDSA']) {
  t.test(`${algorithm} keys rotate, and tokens of both keys verify`, async t => {
    const app = await build(t, {}, { env: { JWT_ALGORITHM: algorithm } })
    const root = await loginAs(app, { superuser: true })
    const res = await rotate(app, root.access, { immediate: true })
    t.equal(res.statusCode, 200)
    const user = await loginAs(app)
    t.equal(decodeProtectedHeader(user.access).alg, algorithm)
    t.equal(kidOf(user.access), res.json().kid)
    const set = (await jwks(app)).body
    t.same(set.keys.map(k => k.alg), [algorithm, algorithm])
    for (const token of [root.access, user.access]) {
      t.equal((await me(app, token)).statusCode, 200)
      await t.resolves(jwtVerify(token, createLocalJWKSet(set), { algorithms: [algorithm] }))
    }
  })
}

t.test('a token naming an unknown kid, or a kid with another algorithm, is 401 token_not_valid', async t => {
  const app = await build(t, {}, { env: STORED })
  const root = await loginAs(app, { superuser: true })
  await rotate(app, root.access, { immediate: true })
  const [header, payload, signature] = root.access.split('.')
  const withHeader = (h: object) => `${Buffer.from(JSON.stringify(h)).toString('base64url')}.${payload}.${signature}`
  const parsed = JSON.parse(Buffer.from(header, 'base64url').toString())
  for (const [name, token] of [
    ['unknown kid', withHeader({ ...parsed, kid: 'no-such-key' })],
    ['no kid', withHeader({ alg: parsed.alg, typ: parsed.typ })],
    ['kid not a string', withHeader({ ...parsed, kid: 7 })],
    ['ES256 with an RS256 kid', withHeader({ ...parsed, alg: 'ES256' })],
    ['header not JSON', `bm90IGpzb24.${payload}.${signature}`]
  ]) expectProblem(t, await me(app, token), 401, 'token_not_valid', name)
  t.equal((await me(app, root.access)).statusCode, 200)
})

t.test('automatic rotation: due when the signer is older than the interval; two apps on one database rotate once', async t => {
  const time = clock()
  const env = { ...STORED, DATABASE_URL: await testDatabaseUrl(t), JWT_KEY_ROTATION_INTERVAL: '1h' }
  const one = await build(t, {}, { now: time.now, env })
  const two = await build(t, {}, { now: time.now, env })
  const first = (await jwks(one)).kids
  t.same((await jwks(two)).kids, first, 'the second app uses the key the first one generated')

  await Promise.all([one.maintainKeys(), two.maintainKeys()])
  t.same((await jwks(one)).kids, first, 'not due yet')

  time.advance(3600_000)
  await Promise.all([one.maintainKeys(), two.maintainKeys(), one.maintainKeys(), two.maintainKeys()])
  const stored = await one.repositories.signingKeys.list()
  t.equal(stored.length, 2, 'one new key, not one per app')
  const [a, b] = [(await jwks(one)).kids, (await jwks(two)).kids]
  t.same(a, b, 'both apps publish the same keys')
  t.same(a.length, 2)
  t.equal(a[0], first[0], 'the old key signs until the new one takes over')

  time.advance(ACTIVATION_MS)
  const user = await loginAs(two)
  t.equal(kidOf(user.access), a[1], 'then the new one signs')
  t.equal((await me(one, user.access)).statusCode, 200, 'and the other app accepts its tokens')

  await one.maintainKeys()
  t.equal((await one.repositories.signingKeys.list()).length, 2, 'a fresh signer is not rotated again')
  time.advance(RETENTION_MS)
  await one.maintainKeys()
  t.same((await one.repositories.signingKeys.list()).map(k => k.kid), [a[1]], 'a key past its window is deleted')
})

t.test('with JWT_PRIVATE_KEY, rotation is 409 key_configured and the list shows the configured key', async t => {
  const app = await build(t)
  const root = await loginAs(app, { superuser: true })
  const res = await rotate(app, root.access)
  expectProblem(t, res, 409, 'key_configured')
  t.match(res.json().detail, /JWT_PRIVATE_KEY/)
  const list = await call(app, root.access, 'GET', '/api/admin/keys')
  t.equal(list.statusCode, 200)
  t.match(list.json(), { algorithm: 'RS256', source: 'configuration', rotation_interval: null })
  t.same(list.json().keys.map((k: { kid: string, status: string, source: string }) => [k.kid, k.status, k.source]), [[kidOf(root.access), 'active', 'configuration']])
})

t.test('keys generated before a key was configured retire, and stay published for their tokens', async t => {
  const database = await testDatabaseUrl(t)
  const time = clock()
  const before = await build(t, {}, { now: time.now, env: { ...STORED, DATABASE_URL: database } })
  const user = await loginAs(before)
  await before.close()
  const configured = await build(t, {}, { now: time.now, env: { DATABASE_URL: database, JWT_PRIVATE_KEY: testPrivateKey() } })
  const kids = (await jwks(configured)).kids
  t.equal(kids.length, 2)
  t.equal(kids[1], kidOf(user.access))
  t.equal((await me(configured, user.access)).statusCode, 200)
  time.advance(RETENTION_MS)
  t.same((await jwks(configured)).kids, [kids[0]])
  expectProblem(t, await me(configured, user.access), 401, 'token_not_valid')
})

t.test('HS256: an empty JWKS, and rotation refused', async t => {
  const app = await build(t, {}, { env: HS256_ENV })
  const root = await loginAs(app, { superuser: true })
  t.same((await jwks(app)).body, { keys: [] })
  const res = await rotate(app, root.access, { immediate: true })
  expectProblem(t, res, 409, 'key_configured')
  t.match(res.json().detail, /HS256/)
  const list = await call(app, root.access, 'GET', '/api/admin/keys')
  t.same(list.json(), { algorithm: 'HS256', source: 'configuration', rotation_interval: null, keys: [] })
  t.equal((await me(app, root.access)).statusCode, 200)
})

t.test('GET /api/admin/keys describes each key and its schedule', async t => {
  const time = clock()
  const app = await build(t, {}, { now: time.now, env: { ...STORED, JWT_KEY_ROTATION_INTERVAL: '30d' } })
  const root = await loginAs(app, { superuser: true })
  const rotation = (await rotate(app, root.access)).json()
  const res = await call(app, root.access, 'GET', '/api/admin/keys')
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.match(body, { algorithm: 'RS256', source: 'database', rotation_interval: 30 * 86400 })
  const [next, active] = body.keys
  t.match(next, { kid: rotation.kid, status: 'next', published: true, source: 'database', signs_from: rotation.signs_from, retired_at: null, published_until: null })
  t.match(active, { kid: kidOf(root.access), status: 'active', published: true, retired_at: rotation.signs_from })
  t.equal(Date.parse(active.published_until), Date.parse(rotation.signs_from) + RETENTION_MS)
  t.notMatch(res.body, /PRIVATE|"d"/, 'no key material')
  time.advance(ACTIVATION_MS + RETENTION_MS)
  const again = await loginAs(app, { superuser: true })
  const later = (await call(app, again.access, 'GET', '/api/admin/keys')).json().keys
  t.same(later.map((k: { status: string }) => k.status), ['active', 'expired'])
})

t.test('the key endpoints are 401 without a token and 403 for anyone but a superuser', async t => {
  const app = await build(t, {}, { env: STORED })
  const staff = await loginAs(app, { staff: true, permissions: BUILTIN_PERMISSIONS })
  for (const [method, url] of [['GET', '/api/admin/keys'], ['POST', '/api/admin/keys/rotate']] as const) {
    expectProblem(t, await call(app, undefined, method, url), 401, 'not_authenticated', `${url} without a token`)
    expectProblem(t, await call(app, 'garbage', method, url), 401, 'token_not_valid', `${url} with a bad token`)
    expectProblem(t, await call(app, staff.access, method, url), 403, 'permission_denied', `${url} as staff with every permission`)
  }
  t.equal((await app.repositories.signingKeys.list()).length, 1, 'nothing rotated')
})

t.test('the rotate body is closed: unknown fields and wrong types are 400, never 500', async t => {
  const app = await build(t, {}, { env: STORED })
  const root = await loginAs(app, { superuser: true })
  expectProblem(t, await rotate(app, root.access, { immediate: 'yes' }), 400, 'validation_failed', 'a string')
  expectProblem(t, await rotate(app, root.access, { force: true }), 400, 'validation_failed', 'an unknown field')
  expectProblem(t, await app.inject({ method: 'POST', url: '/api/admin/keys/rotate', headers: { authorization: `Bearer ${root.access}`, 'content-type': 'application/json' }, payload: '[' }), 400, 'malformed_request', 'broken JSON')
  t.equal((await rotate(app, root.access)).statusCode, 200, 'no body at all is fine')
  t.equal((await app.repositories.signingKeys.list()).length, 2)
})

t.test('a configured EC key is not rotated', async t => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const app = await build(t, {}, { env: { JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() } })
  const root = await loginAs(app, { superuser: true })
  expectProblem(t, await rotate(app, root.access, { immediate: true }), 409, 'key_configured')
  t.same((await jwks(app)).kids, [kidOf(root.access)])
})
