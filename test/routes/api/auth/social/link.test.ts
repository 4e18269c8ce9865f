// Linking a provider to the signed-in account, unlinking it, and the last way in that cannot be unlinked.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { loginAs } from '../../../../admin-helper.js'
import { bearer, loginUser, PASSWORD } from '../../../../helper.js'
import { mailLink, startSmtpServer } from '../../../../smtp.js'
import {
  buildSocialApp, githubGrant, githubUser, googleGrant, pkcePair, startGithubProvider, startOidcProvider
} from '../../../../social/providers.js'

function link (app: FastifyInstance, provider: string, access: string, grant: unknown) {
  return app.inject({ method: 'POST', url: `/api/auth/social/${provider}/link`, headers: bearer(access), payload: grant as Record<string, unknown> })
}

function unlink (app: FastifyInstance, provider: string, access: string) {
  return app.inject({ method: 'DELETE', url: `/api/auth/social/${provider}`, headers: bearer(access) })
}

function me (app: FastifyInstance, access: string) {
  return app.inject({ url: '/api/auth/me', headers: bearer(access) })
}

t.test('a signed-in user links GitHub: /me lists it, and the GitHub login then opens this account', async t => {
  const github = await startGithubProvider(t)
  const { app } = await buildSocialApp(t, github.env)
  const user = await loginUser(app)
  // Linking needs no matching email: the user proves control of both accounts.
  github.user = githubUser('someone-else', 'different@example.test', false)

  const res = await link(app, 'github', user.access, await githubGrant(github))
  t.equal(res.statusCode, 200)
  t.match(res.json(), { id: user.id, providers: ['github'] })
  t.same((await me(app, user.access)).json().providers, ['github'])

  const login = await app.inject({ method: 'POST', url: '/api/auth/social/github', payload: await githubGrant(github) })
  t.equal(login.statusCode, 200)
  t.match(login.json(), { created: false, user: { id: user.id } })
  const passwordLogin = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
  t.same(passwordLogin.json().user.providers, ['github'], 'login answers list the providers too')
})

t.test('linking the identity already linked to this user is a no-op; one linked to another user is 409 already_linked', async t => {
  const github = await startGithubProvider(t)
  const { app, count } = await buildSocialApp(t, github.env)
  const first = await loginUser(app)
  const second = await loginUser(app)
  github.user = githubUser('shared')
  t.equal((await link(app, 'github', first.access, await githubGrant(github))).statusCode, 200)
  t.equal((await link(app, 'github', first.access, await githubGrant(github))).statusCode, 200, 'again: no-op')
  const stolen = await link(app, 'github', second.access, await githubGrant(github))
  t.equal(stolen.statusCode, 409)
  t.equal(stolen.json().code, 'already_linked')
  t.equal(await count('social_accounts'), 1)
})

t.test('a second identity of the same provider on one account is 409 already_linked', async t => {
  const github = await startGithubProvider(t)
  const { app } = await buildSocialApp(t, github.env)
  const user = await loginUser(app)
  github.user = githubUser('first-identity')
  await link(app, 'github', user.access, await githubGrant(github))
  github.user = githubUser('second-identity')
  const res = await link(app, 'github', user.access, await githubGrant(github))
  t.equal(res.statusCode, 409)
  t.equal(res.json().code, 'already_linked')
})

t.test('link needs an access token, a valid grant and a known provider', async t => {
  const github = await startGithubProvider(t)
  const { app } = await buildSocialApp(t, github.env)
  const user = await loginUser(app)
  const grant = await githubGrant(github)
  const anonymous = await app.inject({ method: 'POST', url: '/api/auth/social/github/link', payload: grant })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, 'not_authenticated')
  const wrongVerifier = await link(app, 'github', user.access, { ...grant, code_verifier: pkcePair().verifier })
  t.equal(wrongVerifier.statusCode, 400)
  t.equal(wrongVerifier.json().code, 'invalid_grant')
  t.equal((await link(app, 'google', user.access, grant)).json().code, 'unknown_provider')
  t.equal((await link(app, 'github', user.access, { ...grant, extra: 1 })).json().code, 'validation_failed')
})

t.test('unlinking: 204, gone from /me; not linked is 404; no token is 401', async t => {
  const github = await startGithubProvider(t)
  const { app } = await buildSocialApp(t, github.env)
  const user = await loginUser(app)
  await link(app, 'github', user.access, await githubGrant(github))
  const res = await unlink(app, 'github', user.access)
  t.equal(res.statusCode, 204)
  t.same((await me(app, user.access)).json().providers, [])
  const again = await unlink(app, 'github', user.access)
  t.equal(again.statusCode, 404)
  t.equal(again.json().code, 'not_found')
  t.equal((await app.inject({ method: 'DELETE', url: '/api/auth/social/github' })).statusCode, 401)
})

t.test('a social-only account cannot unlink its last provider: 409 last_login_method; with a second one or a password it can', async t => {
  const github = await startGithubProvider(t)
  const google = await startOidcProvider(t)
  const { app } = await buildSocialApp(t, { ...github.env, ...google.env })
  github.user = githubUser('solo', 'solo@example.test')
  const login = await app.inject({ method: 'POST', url: '/api/auth/social/github', payload: await githubGrant(github) })
  const access = login.json().access as string

  const refused = await unlink(app, 'github', access)
  t.equal(refused.statusCode, 409)
  t.equal(refused.json().code, 'last_login_method')
  t.same((await me(app, access)).json().providers, ['github'], 'still linked')

  google.identity = { sub: 'g-solo', email: 'solo@example.test', email_verified: true }
  t.equal((await link(app, 'google', access, await googleGrant(google))).statusCode, 200)
  t.equal((await unlink(app, 'github', access)).statusCode, 204, 'another provider remains')
  t.equal((await unlink(app, 'google', access)).json().code, 'last_login_method')
})

t.test('a social-only user sets a password through the reset flow, and may then unlink', async t => {
  const smtp = await startSmtpServer(t)
  const github = await startGithubProvider(t)
  const { app } = await buildSocialApp(t, { ...github.env, SMTP_URL: smtp.url })
  github.user = githubUser('resetter', 'resetter@example.test')
  const login = await app.inject({ method: 'POST', url: '/api/auth/social/github', payload: await githubGrant(github) })
  const { access, user } = login.json()

  t.equal((await app.inject({ method: 'POST', url: '/api/auth/password/reset', payload: { email: user.email } })).statusCode, 202)
  const { token } = mailLink(await smtp.waitForMail(m => m.to.includes(user.email) && m.subject === 'Reset your password'))
  const confirm = await app.inject({ method: 'POST', url: '/api/auth/password/reset/confirm', payload: { token, new_password: 'a brand new passphrase' } })
  t.equal(confirm.statusCode, 204)

  const passwordLogin = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: 'a brand new passphrase' } })
  t.equal(passwordLogin.statusCode, 200, 'the password now works')
  t.equal((await unlink(app, 'github', passwordLogin.json().access)).statusCode, 204, 'and GitHub is no longer the last way in')
  t.equal((await me(app, access)).statusCode, 401, 'the reset ended the social session, as every reset does')
})

t.test('deleting a user takes its links with it: the identity can sign up afresh', async t => {
  const github = await startGithubProvider(t)
  const { app, count } = await buildSocialApp(t, github.env)
  github.user = githubUser('leaver')
  const first = await app.inject({ method: 'POST', url: '/api/auth/social/github', payload: await githubGrant(github) })
  const admin = await loginAs(app, { superuser: true })
  const deleted = await app.inject({ method: 'DELETE', url: `/api/admin/users/${first.json().user.id}`, headers: bearer(admin.access) })
  t.equal(deleted.statusCode, 204)
  t.equal(await count('social_accounts'), 0)
  const again = await app.inject({ method: 'POST', url: '/api/auth/social/github', payload: await githubGrant(github) })
  t.equal(again.statusCode, 200)
  t.equal(again.json().created, true)
})
