// The client-driven social login (POST /api/auth/social/{provider}): the client runs PKCE, we exchange its code.
import t from 'tap'
import { generateKeyPair, SignJWT, decodeJwt } from 'jose'
import type { FastifyInstance } from 'fastify'
import { PASSWORD, registerUser, newUser } from '../../../../helper.js'
import {
  buildSocialApp, CLIENT_REDIRECT, githubGrant, githubUser, googleGrant, pkcePair, startGithubProvider, startOidcProvider
} from '../../../../social/providers.js'

function socialLogin (app: FastifyInstance, provider: string, grant: unknown) {
  return app.inject({ method: 'POST', url: `/api/auth/social/${provider}`, payload: grant as Record<string, unknown> })
}

t.test('Google: a client-driven login answers like login plus created, with the cookie, and a second login is not created', async t => {
  const google = await startOidcProvider(t)
  const { app, count, db } = await buildSocialApp(t, google.env)
  google.identity = { sub: 'g-123', email: 'grace@gmail.test', email_verified: true }

  const res = await socialLogin(app, 'google', await googleGrant(google, { nonce: 'n-0S6_WzA2Mj' }))
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json()
  t.match(body, { token_type: 'Bearer', expires_in: 300, created: true, user: { email: 'grace@gmail.test', username: 'grace', email_verified: true, providers: ['google'] } })
  t.type(body.access, 'string')
  t.equal(res.cookies.find(c => c.name === 'refresh_token')?.value, body.refresh, 'the refresh token is in the cookie too')
  t.equal(decodeJwt(body.access).email, 'grace@gmail.test')
  t.same(await db.query('SELECT provider, provider_user_id, email FROM social_accounts'), [{ provider: 'google', provider_user_id: 'g-123', email: 'grace@gmail.test' }])

  const again = await socialLogin(app, 'google', await googleGrant(google))
  t.equal(again.statusCode, 200, 'no nonce sent, none expected')
  t.equal(again.json().created, false)
  t.equal(again.json().user.id, body.user.id)
  t.equal(await count('users'), 1)
})

t.test('GitHub: a client-driven login; the username comes from the GitHub login and is made unique', async t => {
  const github = await startGithubProvider(t)
  const { app } = await buildSocialApp(t, github.env)
  await registerUser(app, newUser({ username: 'octocat' }))
  github.user = githubUser('octocat', 'cat@example.test')
  const res = await socialLogin(app, 'github', await githubGrant(github))
  t.equal(res.statusCode, 200)
  t.match(res.json(), { created: true, user: { username: 'octocat2', email: 'cat@example.test', providers: ['github'] } })
})

t.test('a wrong code_verifier is 400 invalid_grant and creates nothing (both providers)', async t => {
  const google = await startOidcProvider(t)
  const github = await startGithubProvider(t)
  const { app, count } = await buildSocialApp(t, { ...google.env, ...github.env })
  const other = pkcePair().verifier
  for (const [provider, grant] of [['google', await googleGrant(google)], ['github', await githubGrant(github)]] as const) {
    const res = await socialLogin(app, provider, { ...grant, code_verifier: other })
    t.equal(res.statusCode, 400, provider)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.equal(res.json().code, 'invalid_grant')
  }
  t.same([await count('users'), await count('social_accounts'), await count('sessions')], [0, 0, 0])
})

t.test('a code works once: a replayed code is 400 invalid_grant', async t => {
  const github = await startGithubProvider(t)
  const { app } = await buildSocialApp(t, github.env)
  const grant = await githubGrant(github)
  t.equal((await socialLogin(app, 'github', grant)).statusCode, 200)
  const replay = await socialLogin(app, 'github', grant)
  t.equal(replay.statusCode, 400)
  t.equal(replay.json().code, 'invalid_grant')
})

t.test('a tampered ID token (bad signature) is 502 provider_error and creates nothing', async t => {
  const google = await startOidcProvider(t)
  const { app, count } = await buildSocialApp(t, google.env)
  google.server.service.once('beforeResponse', (response: { body: Record<string, string> }) => {
    const [header, payload, signature] = response.body.id_token.split('.')
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
    claims.email = 'victim@gmail.test'
    response.body.id_token = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.')
  })
  const res = await socialLogin(app, 'google', await googleGrant(google))
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'provider_error')
  t.same([await count('users'), await count('social_accounts')], [0, 0])
})

t.test('a foreign ID token (another key, another audience, another issuer) is 502 provider_error', async t => {
  const google = await startOidcProvider(t)
  const { app, count } = await buildSocialApp(t, google.env)
  const foreign = await generateKeyPair('RS256')
  // The claims the provider would sign, signed by a key its JWKS does not hold.
  const signed = await new SignJWT({ sub: google.identity.sub, email: 'x@gmail.test', email_verified: true, aud: 'google-client', iss: google.issuer })
    .setProtectedHeader({ alg: 'RS256', kid: 'not-a-provider-key' }).setIssuedAt().setExpirationTime('5m').sign(foreign.privateKey)
  google.server.service.once('beforeResponse', (response: { body: Record<string, string> }) => { response.body.id_token = signed })
  let res = await socialLogin(app, 'google', await googleGrant(google))
  t.equal(res.statusCode, 502, 'signed by another key')
  t.equal(res.json().code, 'provider_error')

  const genuine = google.identity
  google.identity = { ...genuine, aud: 'another-client' }
  res = await socialLogin(app, 'google', await googleGrant(google))
  t.equal(res.statusCode, 502, 'issued to another client')
  t.equal(res.json().code, 'provider_error')

  google.identity = { ...genuine, iss: 'https://evil.test' }
  res = await socialLogin(app, 'google', await googleGrant(google))
  t.equal(res.statusCode, 502, 'from another issuer')
  t.same([await count('users'), await count('social_accounts')], [0, 0])
})

t.test('a nonce that does not match the ID token\'s is refused', async t => {
  const google = await startOidcProvider(t)
  const { app, count } = await buildSocialApp(t, google.env)
  const grant = await googleGrant(google, { nonce: 'the-nonce-the-client-sent' })
  const res = await socialLogin(app, 'google', { ...grant, nonce: 'a-different-nonce' })
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'provider_error')
  t.equal(await count('users'), 0)
})

t.test('an unverified email that belongs to an existing account is 409 account_exists: no pre-hijacking', async t => {
  const github = await startGithubProvider(t)
  const { app, count } = await buildSocialApp(t, github.env)
  const victim = await registerUser(app, newUser({ email: 'victim@example.test' }))
  github.user = githubUser('attacker', 'victim@example.test', false)
  const res = await socialLogin(app, 'github', await githubGrant(github))
  t.equal(res.statusCode, 409)
  t.equal(res.json().code, 'account_exists')
  t.equal(await count('social_accounts'), 0, 'nothing linked')
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: victim.email, password: PASSWORD } })
  t.equal(login.statusCode, 200, 'the owner\'s password still works')
  t.same(login.json().user.providers, [])
})

t.test('a verified email of an existing verified account links the identity and logs into that account, password kept', async t => {
  const google = await startOidcProvider(t)
  const { app } = await buildSocialApp(t, google.env)
  const owner = await registerUser(app, newUser({ email: 'owner@gmail.test' }))
  await app.repositories.users.update(owner.id, { emailVerified: true })
  google.identity = { sub: 'g-owner', email: 'OWNER@gmail.test', email_verified: true }
  const res = await socialLogin(app, 'google', await googleGrant(google))
  t.equal(res.statusCode, 200)
  t.match(res.json(), { created: false, user: { id: owner.id, providers: ['google'], email_verified: true } })
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: owner.email, password: PASSWORD } })
  t.equal(login.statusCode, 200, 'the owner\'s password still works')
})

t.test('linking by a verified email to an account that never verified its address shuts out whoever set its password', async t => {
  const google = await startOidcProvider(t)
  const { app, db } = await buildSocialApp(t, google.env)
  // Someone registered the victim's address first and knows that password.
  const squatter = await registerUser(app, newUser({ email: 'real-owner@gmail.test' }))
  const squatterLogin = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: squatter.email, password: PASSWORD } })
  t.equal(squatterLogin.statusCode, 200)

  google.identity = { sub: 'g-real-owner', email: 'real-owner@gmail.test', email_verified: true }
  const res = await socialLogin(app, 'google', await googleGrant(google))
  t.equal(res.statusCode, 200)
  t.match(res.json(), { created: false, user: { id: squatter.id, email_verified: true, providers: ['google'] } })

  const refresh = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: squatterLogin.json().refresh } })
  t.equal(refresh.statusCode, 401, 'the earlier sessions are revoked')
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: squatter.email, password: PASSWORD } })
  t.equal(login.statusCode, 401, 'the password set before the address was proven no longer works')
  t.equal((await db.query<{ password_hash: string | null }>('SELECT password_hash FROM users WHERE id = ?', squatter.id))[0].password_hash, null)
})

t.test('a new identity without any verified email creates no account: 403 email_not_verified', async t => {
  const google = await startOidcProvider(t)
  const { app, count } = await buildSocialApp(t, google.env)
  google.identity = { sub: 'g-unverified', email: 'nobody@gmail.test', email_verified: false }
  const res = await socialLogin(app, 'google', await googleGrant(google))
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'email_not_verified')
  google.identity = { sub: 'g-no-email' }
  t.equal((await socialLogin(app, 'google', await googleGrant(google))).json().code, 'email_not_verified', 'no email at all')
  t.equal(await count('users'), 0)
})

t.test('banned and inactive users are refused exactly as with password login', async t => {
  const github = await startGithubProvider(t)
  const { app } = await buildSocialApp(t, github.env)
  github.user = githubUser('eve')
  const first = await socialLogin(app, 'github', await githubGrant(github))
  const id = first.json().user.id as string

  await app.repositories.users.update(id, { isBanned: true, banReason: 'spam', bannedUntil: null })
  let res = await socialLogin(app, 'github', await githubGrant(github))
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'account_banned')

  await app.repositories.users.update(id, { isBanned: false, isActive: false })
  res = await socialLogin(app, 'github', await githubGrant(github))
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'account_disabled')

  await app.repositories.users.update(id, { isActive: true, isBanned: true, bannedUntil: new Date(Date.now() - 1000) })
  t.equal((await socialLogin(app, 'github', await githubGrant(github))).statusCode, 200, 'a ban that has ended no longer applies')
})

t.test('an existing banned account is not linked by a verified-email login', async t => {
  const google = await startOidcProvider(t)
  const { app, count } = await buildSocialApp(t, google.env)
  const owner = await registerUser(app, newUser({ email: 'banned@gmail.test' }))
  await app.repositories.users.update(owner.id, { isBanned: true })
  google.identity = { sub: 'g-banned', email: 'banned@gmail.test', email_verified: true }
  const res = await socialLogin(app, 'google', await googleGrant(google))
  t.equal(res.json().code, 'account_banned')
  t.equal(await count('social_accounts'), 0)
})

t.test('with REQUIRE_EMAIL_VERIFICATION, a linked account whose address is unverified gets 403 email_not_verified', async t => {
  const github = await startGithubProvider(t)
  const { app } = await buildSocialApp(t, { ...github.env, REQUIRE_EMAIL_VERIFICATION: 'true' })
  github.user = githubUser('rita')
  const first = await socialLogin(app, 'github', await githubGrant(github))
  t.equal(first.statusCode, 200, 'a new account from a verified address is verified')
  await app.repositories.users.update(first.json().user.id, { emailVerified: false })
  const res = await socialLogin(app, 'github', await githubGrant(github))
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'email_not_verified')
})

t.test('the provider down or failing: 502 provider_unavailable, nothing half-created', async t => {
  const github = await startGithubProvider(t)
  const { app, count } = await buildSocialApp(t, github.env)

  const grant = await githubGrant(github)
  github.failWith = 503
  let res = await socialLogin(app, 'github', grant)
  t.equal(res.statusCode, 502)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(res.json().code, 'provider_unavailable')

  github.failWith = undefined
  const another = await githubGrant(github)
  await github.close()
  res = await socialLogin(app, 'github', another)
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'provider_unavailable')
  t.same([await count('users'), await count('social_accounts'), await count('sessions')], [0, 0, 0])
})

t.test('the API half of GitHub failing after the token exchange: 502, nothing created', async t => {
  const github = await startGithubProvider(t)
  const { app, count } = await buildSocialApp(t, { ...github.env, GITHUB_API_URL: 'http://127.0.0.1:9' })
  const res = await socialLogin(app, 'github', await githubGrant(github))
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'provider_unavailable')
  t.equal(await count('users'), 0)
})

t.test('a redirect_uri outside the allow-list is 400 invalid_redirect, before the provider is asked', async t => {
  const github = await startGithubProvider(t)
  const { app } = await buildSocialApp(t, github.env)
  const grant = await githubGrant(github)
  const res = await socialLogin(app, 'github', { ...grant, redirect_uri: 'https://evil.test/auth/callback' })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'invalid_redirect')
  t.equal((await socialLogin(app, 'github', grant)).statusCode, 200, 'the code was not spent')
})

t.test('malformed bodies are 400 validation_failed, unknown providers 404, never a 500', async t => {
  const github = await startGithubProvider(t)
  const { app } = await buildSocialApp(t, github.env)
  const good = { code: 'abc', code_verifier: pkcePair().verifier, redirect_uri: CLIENT_REDIRECT }
  const bad: unknown[] = [
    {},
    { ...good, code: '' },
    { ...good, code_verifier: 'short' },
    { ...good, code_verifier: `${'a'.repeat(42)}!` },
    { ...good, code_verifier: 'a'.repeat(129) },
    { ...good, redirect_uri: 42 },
    { ...good, is_staff: true },
    { ...good, nonce: '' },
    [good],
    null
  ]
  for (const body of bad) {
    const res = await socialLogin(app, 'github', body)
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.equal(res.json().code, 'validation_failed')
  }
  const text = await app.inject({ method: 'POST', url: '/api/auth/social/github', headers: { 'content-type': 'text/plain' }, payload: 'code=abc' })
  t.equal(text.statusCode, 415)
  const unknown = await socialLogin(app, 'google', good)
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'unknown_provider')
  const garbage = await socialLogin(app, 'github', good)
  t.equal(garbage.statusCode, 400, 'a code the provider never issued')
  t.equal(garbage.json().code, 'invalid_grant')
})

t.test('GitHub answering /user in an unexpected shape: 502 provider_error, nothing created', async t => {
  const github = await startGithubProvider(t)
  const { app, count } = await buildSocialApp(t, github.env)
  github.user = { ...githubUser('shapeless'), login: 42 as unknown as string }
  const res = await socialLogin(app, 'github', await githubGrant(github))
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'provider_error')
  t.same([await count('users'), await count('social_accounts'), await count('sessions')], [0, 0, 0])
})
