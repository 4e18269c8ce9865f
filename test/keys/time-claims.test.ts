// Validly signed tokens whose time claims are wrong (issue 13.2): refused by every place that verifies.
import t from 'tap'
import { randomUUID, sign } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { bearer, build, loginUser, testPrivateKey } from '../helper.js'
import { clientToken, introspectAs, makeClient } from '../oauth-helper.js'
import { TOKEN_CLOCK_SKEW_SECONDS } from '../../src/keys/time-claims.js'
import { waitUntil } from '../wait-until.js'

/** The token with its claims changed, signed again by hand with the app's real key. */
function resigned (token: string, changes: Record<string, unknown>): string {
  const [header, payload] = token.split('.')
  const claims = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), jti: randomUUID(), ...changes }
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  return `${input}.${sign('sha256', Buffer.from(input), testPrivateKey()).toString('base64url')}`
}

const TTL = 300

function badTimes (): Array<[string, Record<string, unknown>]> {
  const now = Math.floor(Date.now() / 1000)
  return [
    ['iat in the future', { iat: now + 600, exp: now + 600 + TTL }],
    ['a fractional exp', { iat: now, exp: now + TTL + 0.5 }],
    ['a fractional iat', { iat: now + 0.25, exp: now + TTL }],
    ['exp in milliseconds', { iat: now, exp: (now + TTL) * 1000 }],
    ['exp years away', { iat: now, exp: now + 5 * 365 * 24 * 3600 }],
    ['exp just over the lifetime and the skew', { iat: now, exp: now + TTL + TOKEN_CLOCK_SKEW_SECONDS + 1 }],
    ['a string exp', { iat: now, exp: String(now + TTL) }],
    ['a fractional nbf', { iat: now, exp: now + TTL, nbf: now - 0.5 }],
    ['a string nbf', { iat: now, exp: now + TTL, nbf: String(now) }]
  ]
}

function goodTimes (): Array<[string, Record<string, unknown>]> {
  const now = Math.floor(Date.now() / 1000)
  return [
    ['as signed', {}],
    ['iat a little in the future (within the skew)', { iat: now + 5, exp: now + 5 + TTL }],
    ['the full lifetime plus the skew', { iat: now, exp: now + TTL + TOKEN_CLOCK_SKEW_SECONDS }],
    ['an integer nbf', { iat: now, exp: now + TTL, nbf: now }]
  ]
}

async function setup (t: Parameters<typeof build>[0]): Promise<{ app: FastifyInstance, access: string, client: Awaited<ReturnType<typeof makeClient>>, clientAccess: string }> {
  const app = await build(t, { accessTokenTtl: TTL })
  const user = await loginUser(app)
  const client = await makeClient(app)
  return { app, access: user.access, client, clientAccess: await clientToken(app, client) }
}

t.test('a user token with a bad time claim is refused by /me, /token/verify and /oauth/introspect', async t => {
  const { app, access, client } = await setup(t)
  for (const [name, changes] of goodTimes()) {
    const token = resigned(access, changes)
    t.equal((await app.inject({ url: '/api/auth/me', headers: bearer(token) })).statusCode, 200, `/me accepts ${name}`)
    t.equal((await introspectAs(app, client, token)).json().active, true, `introspect accepts ${name}`)
  }
  for (const [name, changes] of badTimes()) {
    const token = resigned(access, changes)
    const me = await app.inject({ url: '/api/auth/me', headers: bearer(token) })
    t.equal(me.statusCode, 401, `/me: ${name}`)
    t.equal(me.json().code, 'token_not_valid', `/me: ${name}`)
    const verified = await app.inject({ method: 'POST', url: '/api/auth/token/verify', payload: { token } })
    t.equal(verified.statusCode, 401, `/token/verify: ${name}`)
    t.equal(verified.json().code, 'token_not_valid', `/token/verify: ${name}`)
    const introspected = await introspectAs(app, client, token)
    t.equal(introspected.statusCode, 200, `introspect: ${name}`)
    t.same(introspected.json(), { active: false }, `introspect: ${name}`)
  }
})

t.test('a client token with a bad time claim is inactive and does not open the revocation feed', async t => {
  const { app, client, clientAccess } = await setup(t)
  const feed = (token: string) => app.inject({ url: '/api/auth/revocations', headers: bearer(token) })
  t.equal((await feed(resigned(clientAccess, {}))).statusCode, 200, 'a hand-signed client token is good')
  t.equal((await introspectAs(app, client, resigned(clientAccess, {}))).json().active, true)
  for (const [name, changes] of badTimes()) {
    const token = resigned(clientAccess, changes)
    t.same((await introspectAs(app, client, token)).json(), { active: false }, `introspect: ${name}`)
    const res = await feed(token)
    t.equal(res.statusCode, 401, `feed: ${name}`)
    t.equal(res.json().code, 'token_not_valid', `feed: ${name}`)
  }
})

t.test('a token accepted before is refused once it has expired: the cache of verified tokens checks exp on every use', async t => {
  const app = await build(t, { accessTokenTtl: 2 })
  const { access } = await loginUser(app)
  const me = () => app.inject({ url: '/api/auth/me', headers: bearer(access) })
  t.equal((await me()).statusCode, 200, 'verified once, and remembered')
  t.equal((await me()).statusCode, 200, 'again, from the cache')
  const { exp } = JSON.parse(Buffer.from(access.split('.')[1], 'base64url').toString()) as { exp: number }
  await waitUntil(() => Date.now() >= exp * 1000 + 1000, 10_000, 'the token to expire', t)
  const res = await me()
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'token_not_valid')
})
