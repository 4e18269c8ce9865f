// Passkey responses that must not pass: each a clear 4xx problem, and nothing stored (no passkey, no counter move, no session).
import { randomBytes } from 'node:crypto'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { bearer, build, loginUser, PASSWORD } from '../helper.js'
import { loggedApp, WARN } from '../limits/logged-app.js'
import { ORIGIN, passkeyLoginOptions, registerPasskey } from './mfa-helper.js'
import { SoftwareAuthenticator, type CeremonyOverrides } from './software-authenticator.js'

const PROBLEM = /^application\/problem\+json/

async function sessionCount (app: FastifyInstance, userId: string): Promise<number> {
  return (await app.repositories.sessions.listLive(userId, new Date())).length
}

t.test('registration: a response for another challenge, origin, relying party or ceremony is 400 invalid_credential, and stores nothing', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const other = await loginUser(app)
  const authenticator = new SoftwareAuthenticator(ORIGIN)
  const options = async (access = user.access) => (await app.inject({ method: 'POST', url: '/api/auth/passkeys/options', headers: bearer(access) })).json()
  const register = (credential: unknown) => app.inject({ method: 'POST', url: '/api/auth/passkeys', headers: bearer(user.access), payload: { credential } })

  const cases: Array<[string, () => Promise<unknown>]> = [
    ['a challenge never issued', async () => authenticator.create(await options(), -7, { challenge: randomBytes(32).toString('base64url') })],
    ['another user\'s challenge', async () => authenticator.create(await options(other.access), -7)],
    ['another origin', async () => authenticator.create(await options(), -7, { origin: 'https://evil.test' })],
    ['another relying party (rpIdHash)', async () => authenticator.create(await options(), -7, { rpId: 'evil.test' })],
    ['an assertion\'s type', async () => authenticator.create(await options(), -7, { type: 'webauthn.get' })],
    ['a passwordless login challenge', async () => authenticator.create({ ...(await options()), challenge: (await passkeyLoginOptions(app)).challenge }, -7)]
  ]
  for (const [name, make] of cases) {
    const res = await register(await make())
    t.equal(res.statusCode, 400, name)
    t.match(res.headers['content-type'], PROBLEM)
    t.equal(res.json().code, 'invalid_credential', name)
  }

  const reused = await options()
  t.equal((await register(authenticator.create(reused, -8))).statusCode, 201)
  const replay = await register(authenticator.create(reused, -7))
  t.equal(replay.json().code, 'invalid_credential', 'a challenge registers once')
  t.equal((await app.repositories.passkeys.listByUser(user.id)).length, 1, 'only the good one stored')
  t.same(await app.repositories.passkeys.listByUser(other.id), [])

  const garbage = await register({ id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'bm90IGpzb24', attestationObject: 'AAAA' }, clientExtensionResults: {} })
  t.equal(garbage.json().code, 'invalid_credential')
  const corrupt = authenticator.create(await options(), -7)
  corrupt.response.attestationObject = corrupt.response.attestationObject.slice(0, 40)
  t.equal((await register(corrupt)).json().code, 'invalid_credential', 'a truncated attestation')
  const unknownField = await app.inject({ method: 'POST', url: '/api/auth/passkeys', headers: bearer(user.access), payload: { credential: { ...authenticator.create(await options(), -7), extra: 1 } } })
  t.equal(unknownField.json().code, 'validation_failed')
  t.equal((await app.repositories.passkeys.listByUser(user.id)).length, 1)
})

t.test('registration: a credential registered already (by another account) is refused', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const other = await loginUser(app)
  const authenticator = new SoftwareAuthenticator(ORIGIN)
  const options = (await app.inject({ method: 'POST', url: '/api/auth/passkeys/options', headers: bearer(user.access) })).json()
  const credential = authenticator.create(options, -7)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/passkeys', headers: bearer(user.access), payload: { credential } })).statusCode, 201)
  // The same attestation, replayed under the other account's own challenge.
  const otherOptions = (await app.inject({ method: 'POST', url: '/api/auth/passkeys/options', headers: bearer(other.access) })).json()
  const clientData = JSON.parse(Buffer.from(credential.response.clientDataJSON, 'base64url').toString())
  const replayed = { ...credential, response: { ...credential.response, clientDataJSON: Buffer.from(JSON.stringify({ ...clientData, challenge: otherOptions.challenge })).toString('base64url') } }
  const res = await app.inject({ method: 'POST', url: '/api/auth/passkeys', headers: bearer(other.access), payload: { credential: replayed } })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'invalid_credential')
  t.same(await app.repositories.passkeys.listByUser(other.id), [])
})

t.test('passwordless login: every bad assertion is 401 invalid_credential, with no session and the counter unchanged', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const authenticator = new SoftwareAuthenticator(ORIGIN)
  await registerPasskey(app, user.access, authenticator)
  const stranger = new SoftwareAuthenticator(ORIGIN)
  stranger.create({ challenge: 'x', rp: { id: 'portcullis.test' }, user: { id: Buffer.from(user.id).toString('base64url') } })
  const sessionsBefore = await sessionCount(app, user.id)
  const login = (credential: unknown) => app.inject({ method: 'POST', url: '/api/auth/passkeys/login', payload: { credential } })
  const assert = async (overrides: CeremonyOverrides & { counter?: number } = {}) => {
    const options = await passkeyLoginOptions(app)
    const counter = authenticator.credentials[0].counter
    const credential = authenticator.get(options, overrides)
    // The authenticator's own counter is not what the server holds: put it back, as if nothing happened.
    authenticator.credentials[0].counter = counter
    return credential
  }

  const tampered = await assert()
  const signature = Buffer.from(tampered.response.signature, 'base64url')
  signature[signature.length - 1] ^= 0x01
  tampered.response.signature = signature.toString('base64url')

  const otherUserHandle = await assert()
  otherUserHandle.response.userHandle = Buffer.from('someone-else').toString('base64url')

  const cases: Array<[string, () => Promise<unknown>]> = [
    ['a challenge never issued', async () => assert({ challenge: randomBytes(32).toString('base64url') })],
    ['another origin', async () => assert({ origin: 'https://evil.test' })],
    ['another relying party (rpIdHash)', async () => assert({ rpId: 'evil.test' })],
    ['a creation type', async () => assert({ type: 'webauthn.create' })],
    ['no user verification (UV flag)', async () => assert({ userVerified: false })],
    ['an unknown credential', async () => stranger.get(await passkeyLoginOptions(app))],
    ['a tampered signature', async () => tampered],
    ['a user handle of another user', async () => otherUserHandle],
    ['a step-up challenge', async () => {
      const options = (await app.inject({ method: 'POST', url: '/api/auth/mfa/webauthn/options', headers: bearer(user.access) })).json()
      const credential = authenticator.get(options)
      authenticator.credentials[0].counter--
      return credential
    }]
  ]
  for (const [name, make] of cases) {
    const res = await login(await make())
    t.equal(res.statusCode, 401, name)
    t.match(res.headers['content-type'], PROBLEM)
    t.equal(res.json().code, 'invalid_credential', name)
    t.equal(res.headers['set-cookie'], undefined)
  }
  t.equal(await sessionCount(app, user.id), sessionsBefore, 'no session opened')
  t.equal((await app.repositories.passkeys.listByUser(user.id))[0].counter, 0, 'the counter did not move')
  t.equal((await app.repositories.passkeys.listByUser(user.id))[0].lastUsedAt, null)

  const options = await passkeyLoginOptions(app)
  const good = authenticator.get(options)
  t.equal((await login(good)).statusCode, 200)
  const reused = await login(authenticator.get(options))
  t.equal(reused.statusCode, 401, 'a challenge logs in once')
  t.equal(reused.json().code, 'invalid_credential')
  t.equal((await app.repositories.passkeys.listByUser(user.id))[0].counter, 1)
})

t.test('a signature counter that does not increase is refused and logged as a security event', async t => {
  const { app, lines, raw } = await loggedApp(t)
  const user = await loginUser(app)
  const authenticator = new SoftwareAuthenticator(ORIGIN)
  await registerPasskey(app, user.access, authenticator)
  const login = async (counter?: number) => app.inject({ method: 'POST', url: '/api/auth/passkeys/login', payload: { credential: authenticator.get(await passkeyLoginOptions(app), { counter }) } })
  t.equal((await login(5)).statusCode, 200)
  const credentialId = authenticator.credentials[0].id.toString('base64url')
  for (const counter of [5, 4, 0]) {
    const res = await login(counter)
    t.equal(res.statusCode, 401, `counter ${counter} after 5`)
    t.equal(res.json().code, 'invalid_credential')
  }
  const events = lines.filter(line => line.securityEvent === 'passkey_counter_regressed')
  t.equal(events.length, 3)
  t.match(events[0], { level: WARN, accountId: user.id, credentialId, msg: /counter did not increase/ })
  const stored = (await app.repositories.passkeys.listByUser(user.id))[0]
  t.equal(stored.counter, 5, 'unchanged')
  t.notOk(raw().includes(stored.publicKey), 'never the key')
  t.equal((await login(6)).statusCode, 200, 'a higher counter works')

  // As a second factor: 401 invalid_mfa_code, and logged the same way.
  const mfaToken = (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })).json().mfa_token
  const options = (await app.inject({ method: 'POST', url: '/api/auth/mfa/webauthn/options', payload: { mfa_token: mfaToken } })).json()
  const res = await app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: mfaToken, method: 'webauthn', credential: authenticator.get(options, { counter: 6 }) } })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'invalid_mfa_code')
  t.equal(lines.filter(line => line.securityEvent === 'passkey_counter_regressed').length, 4)
})

t.test('authenticators without a counter (always 0) are accepted', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const authenticator = new SoftwareAuthenticator(ORIGIN, { counterStep: 0 })
  await registerPasskey(app, user.access, authenticator)
  for (let i = 0; i < 2; i++) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/passkeys/login', payload: { credential: authenticator.get(await passkeyLoginOptions(app)) } })
    t.equal(res.statusCode, 200)
  }
})

t.test('two concurrent uses of one challenge: exactly one logs in', async t => {
  const app = await build(t)
  const user = await loginUser(app)
  const authenticator = new SoftwareAuthenticator(ORIGIN, { counterStep: 0 })
  await registerPasskey(app, user.access, authenticator)
  const options = await passkeyLoginOptions(app)
  const credential = authenticator.get(options)
  const results = await Promise.all(Array.from({ length: 4 }, () => app.inject({ method: 'POST', url: '/api/auth/passkeys/login', payload: { credential } })))
  t.same(results.map(r => r.statusCode).sort(), [200, 401, 401, 401])

  // The same for the second factor of one mfa_token.
  const mfaToken = (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })).json().mfa_token
  const mfaOptions = (await app.inject({ method: 'POST', url: '/api/auth/mfa/webauthn/options', payload: { mfa_token: mfaToken } })).json()
  const assertion = authenticator.get(mfaOptions)
  const verified = await Promise.all(Array.from({ length: 3 }, () => app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: mfaToken, method: 'webauthn', credential: assertion } })))
  t.same(verified.map(r => r.statusCode).sort(), [200, 401, 401])
})

t.test('another user\'s passkey is 401 invalid_mfa_code; a challenge lives 5 minutes', async t => {
  let now = new Date()
  const app = await build(t, {}, { now: () => now })
  const user = await loginUser(app)
  const other = await loginUser(app)
  const mine = new SoftwareAuthenticator(ORIGIN)
  const theirs = new SoftwareAuthenticator(ORIGIN)
  await registerPasskey(app, user.access, mine)
  await registerPasskey(app, other.access, theirs)
  const mfaToken = (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })).json().mfa_token
  const options = async () => (await app.inject({ method: 'POST', url: '/api/auth/mfa/webauthn/options', payload: { mfa_token: mfaToken } })).json()
  const verify = (credential: unknown) => app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: mfaToken, method: 'webauthn', credential } })
  const foreign = await verify(theirs.get({ ...(await options()), allowCredentials: [] }))
  t.equal(foreign.json().code, 'invalid_mfa_code', 'another user\'s passkey')
  t.equal((await verify(mine.get(await options()))).statusCode, 200, 'the token survived the wrong passkey')

  const stale = await passkeyLoginOptions(app)
  now = new Date(now.getTime() + 5 * 60_000 + 1000)
  const expired = await app.inject({ method: 'POST', url: '/api/auth/passkeys/login', payload: { credential: mine.get(stale) } })
  t.equal(expired.json().code, 'invalid_credential', 'a challenge older than 5 minutes')
  const unknownToken = await app.inject({ method: 'POST', url: '/api/auth/mfa/webauthn/options', payload: { mfa_token: 'unknown' } })
  t.equal(unknownToken.statusCode, 401)
  t.equal(unknownToken.json().code, 'invalid_mfa_token')
})
