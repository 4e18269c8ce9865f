// The server-driven social login: authorize → provider → callback → refresh cookie and 302, against real providers.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { decodeJwt } from 'jose'
import { build, manualClock } from '../../../../helper.js'
import { enrolTotp, MFA_ENV, totpCode } from '../../../../mfa/mfa-helper.js'
import { APP_REDIRECT, buildSocialApp, githubUser, nextLocation, startGithubProvider, startOidcProvider } from '../../../../social/providers.js'

/** `null` leaves redirect_to out. */
function authorizePath (provider: string, redirectTo: string | null = APP_REDIRECT): string {
  return `/api/auth/social/${provider}/authorize${redirectTo === null ? '' : `?redirect_to=${encodeURIComponent(redirectTo)}`}`
}

// The login cookie of the browser that started each flow, by state: `callback` brings it back, like that browser would.
const BINDING_COOKIE = '__Host-portcullis_social'
const browserCookies = new Map<string, string>()

/** Starts a login, lets the provider answer, and returns our callback URL as the provider built it. */
async function throughProvider (app: FastifyInstance, provider: string, redirectTo = APP_REDIRECT): Promise<URL> {
  const start = await app.inject({ url: authorizePath(provider, redirectTo) })
  if (start.statusCode !== 302) throw new Error(`authorize answered ${start.statusCode} ${start.body}`)
  const url = new URL(await nextLocation(start.headers.location as string))
  const binding = start.cookies.find(c => c.name === BINDING_COOKIE)
  if (binding !== undefined) browserCookies.set(url.searchParams.get('state') ?? '', binding.value)
  return url
}

/** The callback from the browser that started the flow; `cookie: null` for another browser, or a cookie of one's own. */
function callback (app: FastifyInstance, url: URL, cookie?: string | null) {
  const binding = cookie === undefined ? browserCookies.get(url.searchParams.get('state') ?? '') : cookie
  return app.inject({ url: url.pathname + url.search, ...(binding != null && { cookies: { [BINDING_COOKIE]: binding } }) })
}

function refreshCookieOf (res: { cookies: Array<{ name: string, value: string }> }): string | undefined {
  return res.cookies.find(c => c.name === 'refresh_token')?.value
}

t.test('Google: authorize sends the browser to the provider with PKCE S256, state and nonce, and keeps the secrets here', async t => {
  const google = await startOidcProvider(t)
  const { app, db } = await buildSocialApp(t, google.env)
  const res = await app.inject({ url: authorizePath('google') })
  t.equal(res.statusCode, 302)
  t.equal(res.headers['cache-control'], 'no-store')
  const location = new URL(res.headers.location as string)
  t.equal(location.origin + location.pathname, `${google.issuer}/authorize`)
  const params = location.searchParams
  t.equal(params.get('response_type'), 'code')
  t.equal(params.get('client_id'), 'google-client')
  t.equal(params.get('redirect_uri'), 'http://portcullis.test/api/auth/social/google/callback')
  t.equal(params.get('code_challenge_method'), 'S256')
  t.match(params.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/)
  t.match(params.get('state'), /^[A-Za-z0-9_-]{20,}$/)
  t.match(params.get('nonce'), /^[A-Za-z0-9_-]{20,}$/)
  t.match(params.get('scope'), /openid/)
  t.notOk(params.has('code_verifier'), 'the verifier never leaves the server')

  const stored = await db.query<Record<string, unknown>>('SELECT * FROM social_login_states')
  t.equal(stored.length, 1)
  t.not(stored[0].state_hash, params.get('state'), 'only a hash of the state is stored')
})

t.test('Google: the full redirect flow creates the account, sets the refresh cookie and sends the browser back with no token in the URL', async t => {
  const google = await startOidcProvider(t)
  const { app, db } = await buildSocialApp(t, google.env)
  google.identity = { sub: 'google-ada', email: 'Ada@Gmail.test', email_verified: true, preferred_username: 'ada.l' }

  const res = await callback(app, await throughProvider(app, 'google'))
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, APP_REDIRECT)
  t.equal(res.headers['referrer-policy'], 'no-referrer')
  t.equal(res.headers['cache-control'], 'no-store')
  const cookie = res.cookies.find(c => c.name === 'refresh_token')
  t.ok(cookie, 'the refresh cookie is set')
  t.match(cookie, { httpOnly: true, sameSite: 'Strict', path: '/api/auth' })
  t.notMatch(res.headers.location, /token|code|access/, 'nothing secret in the Location')

  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', headers: { cookie: `refresh_token=${cookie!.value}` } })
  t.equal(refreshed.statusCode, 200, 'the cookie works for a refresh')
  const me = await app.inject({ url: '/api/auth/me', headers: { authorization: `Bearer ${refreshed.json().access}` } })
  t.equal(me.statusCode, 200)
  t.match(me.json(), { email: 'ada@gmail.test', username: 'ada.l', email_verified: true, providers: ['google'] })

  const [user] = await db.query<{ password_hash: string | null }>('SELECT password_hash FROM users WHERE email = ?', 'ada@gmail.test')
  t.equal(user.password_hash, null, 'a social-only account has no usable password')
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'ada@gmail.test', password: 'anything at all' } })
  t.equal(login.statusCode, 401, 'and no password logs in to it')
})

t.test('GitHub: the full redirect flow finds the primary verified address through the API', async t => {
  const github = await startGithubProvider(t)
  const { app, db } = await buildSocialApp(t, github.env)
  github.user = {
    id: 583231,
    login: 'octocat',
    emails: [
      { email: 'old@example.test', primary: false, verified: false },
      { email: 'Octo@Example.test', primary: true, verified: true }
    ]
  }

  const start = await app.inject({ url: authorizePath('github') })
  const params = new URL(start.headers.location as string).searchParams
  t.equal(params.get('code_challenge_method'), 'S256')
  t.notOk(params.has('nonce'), 'no nonce for a plain OAuth 2 provider')
  const res = await callback(app, new URL(await nextLocation(start.headers.location as string)), start.cookies.find(c => c.name === BINDING_COOKIE)!.value)
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, APP_REDIRECT)
  t.ok(refreshCookieOf(res))
  const [row] = await db.query('SELECT u.email, u.username, s.provider_user_id FROM users u JOIN social_accounts s ON s.user_id = u.id')
  t.same(row, { email: 'octo@example.test', username: 'octocat', provider_user_id: '583231' })
})

t.test('a second login with the same identity logs into the same account, even after the provider\'s email changed', async t => {
  const github = await startGithubProvider(t)
  const { app, count } = await buildSocialApp(t, github.env)
  github.user = githubUser('linus')
  await callback(app, await throughProvider(app, 'github'))
  github.user = { ...github.user, emails: [{ email: 'new-address@example.test', primary: true, verified: true }] }
  const again = await callback(app, await throughProvider(app, 'github'))
  t.equal(again.statusCode, 302)
  t.equal(again.headers.location, APP_REDIRECT)
  t.equal(await count('users'), 1, 'matched by the provider user id, not the email')
})

t.test('a replayed, unknown, missing or other provider\'s state is 400 invalid_state and logs nobody in', async t => {
  const google = await startOidcProvider(t)
  const github = await startGithubProvider(t)
  const app = await build(t, {}, { env: { ...google.env, ...github.env } })

  const url = await throughProvider(app, 'google')
  t.equal((await callback(app, url)).statusCode, 302, 'the first use works')
  const replay = await callback(app, url)
  t.equal(replay.statusCode, 400, 'the state works once')
  t.equal(replay.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(replay.json().code, 'invalid_state')
  t.notOk(refreshCookieOf(replay))

  const wrong = new URL(await throughProvider(app, 'google'))
  wrong.searchParams.set('state', 'forged-state-value')
  t.equal((await callback(app, wrong)).json().code, 'invalid_state')
  wrong.searchParams.delete('state')
  t.equal((await callback(app, wrong)).json().code, 'invalid_state', 'no state at all')

  // A state issued for GitHub cannot finish a Google login.
  const forGithub = await throughProvider(app, 'github')
  const crossed = new URL(forGithub.href.replace('/social/github/', '/social/google/'))
  t.equal((await callback(app, crossed)).json().code, 'invalid_state')
})

t.test('login CSRF: a callback started in another browser is 400 invalid_state, logs nobody in, and leaves the state for its own browser', async t => {
  const google = await startOidcProvider(t)
  const { app, count } = await buildSocialApp(t, google.env)
  google.identity = { sub: 'google-mallory', email: 'mallory@gmail.test', email_verified: true }

  // The attacker starts a login, stops at the callback and plants its URL in the victim's browser.
  const planted = await throughProvider(app, 'google')
  const attackersCookie = browserCookies.get(planted.searchParams.get('state')!)!
  // The victim's browser has no login cookie, or one from a login of its own.
  const victim = await app.inject({ url: authorizePath('google') })
  const victimsCookie = victim.cookies.find(c => c.name === BINDING_COOKIE)!.value
  for (const cookie of [null, victimsCookie, '', 'x'.repeat(43)]) {
    const res = await callback(app, planted, cookie)
    t.equal(res.statusCode, 400, `cookie ${String(cookie)}`)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.equal(res.json().code, 'invalid_state')
    t.notOk(refreshCookieOf(res), 'no refresh cookie')
    t.equal(res.headers['referrer-policy'], 'no-referrer')
    t.equal(res.headers['cache-control'], 'no-store')
  }
  t.equal(await count('users'), 0, 'nobody was logged in')
  t.equal(await count('sessions'), 0)

  const own = await callback(app, planted, attackersCookie)
  t.equal(own.statusCode, 302, 'the browser that started the flow still finishes it')
  t.ok(refreshCookieOf(own))
})

t.test('the login cookie: HttpOnly, SameSite=Lax, __Host- (Secure, Path=/), 10 minutes; the callback clears it', async t => {
  const google = await startOidcProvider(t)
  const { app } = await buildSocialApp(t, google.env)
  const start = await app.inject({ url: authorizePath('google') })
  const cookie = start.cookies.find(c => c.name === BINDING_COOKIE)
  t.match(cookie, { httpOnly: true, secure: true, sameSite: 'Lax', path: '/', maxAge: 600 })
  t.notOk((cookie as { domain?: string }).domain, 'no Domain: a __Host- cookie')
  const state = new URL(start.headers.location as string).searchParams.get('state')!
  t.not(cookie!.value, state, 'the state is derived from the cookie\'s value, not equal to it')
  t.notOk(state.includes(cookie!.value))

  const res = await callback(app, new URL(await nextLocation(start.headers.location as string)), cookie!.value)
  t.equal(res.statusCode, 302)
  const cleared = res.cookies.find(c => c.name === BINDING_COOKIE)
  t.match(cleared, { value: '', path: '/', maxAge: 0 }, 'cleared once used')
  const refused = await callback(app, new URL('http://portcullis.test/api/auth/social/google/callback?code=x&state=y'), null)
  t.match(refused.cookies.find(c => c.name === BINDING_COOKIE), { value: '', maxAge: 0 }, 'and by a refused callback too')
})

t.test('with COOKIE_SECURE=false (plain-http development) the login cookie has no __Host- prefix and the flow works', async t => {
  const google = await startOidcProvider(t)
  const { app } = await buildSocialApp(t, { ...google.env, COOKIE_SECURE: 'false' })
  google.identity = { sub: 'google-dev', email: 'dev@gmail.test', email_verified: true }
  const start = await app.inject({ url: authorizePath('google') })
  const cookie = start.cookies.find(c => c.name === 'portcullis_social')
  t.match(cookie, { httpOnly: true, sameSite: 'Lax', path: '/' })
  t.notOk((cookie as { secure?: boolean }).secure)
  const url = new URL(await nextLocation(start.headers.location as string))
  const res = await app.inject({ url: url.pathname + url.search, cookies: { portcullis_social: cookie!.value } })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, APP_REDIRECT)
  t.ok(refreshCookieOf(res))
})

t.test('a state older than 10 minutes is 400 invalid_state', async t => {
  let now = Date.now()
  const google = await startOidcProvider(t)
  const { app, count } = await buildSocialApp(t, google.env, { now: () => new Date(now) })
  const url = await throughProvider(app, 'google')
  now += 10 * 60 * 1000 + 1
  const res = await callback(app, url)
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'invalid_state')
  t.equal(await count('users'), 0)
})

t.test('redirect_to outside the allow-list is 400 invalid_redirect: no open redirect', async t => {
  const google = await startOidcProvider(t)
  const { app, count } = await buildSocialApp(t, google.env)
  const hostile = [
    null,
    '',
    'https://evil.test/auth/done',
    'https://app.example.com.evil.test/auth/done',
    'https://app.example.com/authx',
    'https://app.example.com/other',
    'http://app.example.com/auth/done',
    'https://app.example.com:8443/auth/done',
    'https://user:pass@app.example.com/auth/done',
    '//evil.test/auth',
    '/auth/done',
    'javascript:alert(1)//app.example.com/auth',
    'https://evil.test/?https://app.example.com/auth'
  ]
  for (const target of hostile) {
    const res = await app.inject({ url: authorizePath('google', target) })
    t.equal(res.statusCode, 400, `refused: ${String(target)}`)
    t.equal(res.json().code, 'invalid_redirect')
    t.notOk(res.headers.location)
  }
  t.equal(await count('social_login_states'), 0, 'no state stored for a refused login')
  const ok = await app.inject({ url: authorizePath('google', 'https://app.example.com/auth/done/deeper?next=%2Fhome') })
  t.equal(ok.statusCode, 302, 'a path below the prefix, with a query, is allowed')
})

t.test('a refusal at the provider goes back to redirect_to with ?error=access_denied', async t => {
  const google = await startOidcProvider(t)
  const { app } = await buildSocialApp(t, google.env)
  const url = await throughProvider(app, 'google')
  url.searchParams.delete('code')
  url.searchParams.set('error', 'access_denied')
  const res = await callback(app, url)
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, `${APP_REDIRECT}?error=access_denied`)
  t.notOk(refreshCookieOf(res))
})

t.test('a login that fails after the state checked out goes back with the error code, and creates nothing', async t => {
  const github = await startGithubProvider(t)
  const { app, count } = await buildSocialApp(t, github.env)
  github.user = githubUser('mallory', 'mallory@example.test', false)
  const res = await callback(app, await throughProvider(app, 'github'))
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, `${APP_REDIRECT}?error=email_not_verified`)
  t.notOk(refreshCookieOf(res))
  t.equal(await count('users'), 0)
})

t.test('the provider down at the callback: back to redirect_to with error=provider_unavailable, nothing half-created', async t => {
  const github = await startGithubProvider(t)
  const { app, db } = await buildSocialApp(t, github.env)
  const url = await throughProvider(app, 'github')
  await github.close()
  const res = await callback(app, url)
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, `${APP_REDIRECT}?error=provider_unavailable`)
  const [counts] = await db.query('SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM social_accounts) AS links, (SELECT count(*) FROM sessions) AS sessions')
  t.same(counts, { users: 0, links: 0, sessions: 0 })
})

t.test('the OpenID provider down at authorize: 502 provider_unavailable; it works once it is back', async t => {
  const google = await startOidcProvider(t)
  const { port } = new URL(google.issuer)
  await google.server.stop()
  const { app } = await buildSocialApp(t, google.env)
  const res = await app.inject({ url: authorizePath('google') })
  t.equal(res.statusCode, 502)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(res.json().code, 'provider_unavailable')
  await google.server.start(Number(port), '127.0.0.1')
  t.equal((await app.inject({ url: authorizePath('google') })).statusCode, 302, 'discovery is retried, not cached as failed')
})

t.test('an unknown or disabled provider is 404 unknown_provider', async t => {
  const google = await startOidcProvider(t)
  const { app } = await buildSocialApp(t, google.env)
  for (const url of [authorizePath('github'), authorizePath('facebook'), '/api/auth/social/github/callback?code=x&state=y']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 404, url)
    t.equal(res.json().code, 'unknown_provider')
  }
})

t.test('authorize refuses unknown query parameters: 400 validation_failed', async t => {
  const google = await startOidcProvider(t)
  const { app } = await buildSocialApp(t, google.env)
  const res = await app.inject({ url: `${authorizePath('google')}&redirect=https://evil.test` })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'validation_failed')
})

t.test('GET /api/auth/social/providers lists the enabled providers with their authorize URLs', async t => {
  const google = await startOidcProvider(t)
  const github = await startGithubProvider(t)
  const both = await build(t, {}, { env: { ...google.env, ...github.env } })
  t.same((await both.inject({ url: '/api/auth/social/providers' })).json(), [
    { name: 'github', authorize_url: 'http://portcullis.test/api/auth/social/github/authorize' },
    { name: 'google', authorize_url: 'http://portcullis.test/api/auth/social/google/authorize' }
  ])
  const none = await build(t)
  t.same((await none.inject({ url: '/api/auth/social/providers' })).json(), [])
})

t.test('the social endpoints are rate-limited per client address (RATE_LIMIT_TOKEN_IP)', async t => {
  const google = await startOidcProvider(t)
  const { app, count } = await buildSocialApp(t, { ...google.env, RATE_LIMIT_TOKEN_IP: '2/1m' })
  t.equal((await app.inject({ url: authorizePath('google') })).statusCode, 302)
  t.equal((await app.inject({ url: authorizePath('google') })).statusCode, 302)
  const limited = await app.inject({ url: authorizePath('google') })
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().code, 'rate_limited')
  t.ok(limited.headers['retry-after'])
  t.equal(await count('social_login_states'), 2, 'a limited request stores no state')
})

t.test('Google, an account with a second factor: the redirect carries the mfa_token in its fragment, no cookie, and /mfa/verify finishes', async t => {
  const clock = manualClock()
  const google = await startOidcProvider(t)
  const { app, count } = await buildSocialApp(t, { ...google.env, ...MFA_ENV }, { now: clock.now })
  google.identity = { sub: 'google-mfa', email: 'mfa@gmail.test', email_verified: true }
  const first = await callback(app, await throughProvider(app, 'google'))
  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', headers: { cookie: `refresh_token=${refreshCookieOf(first)}` } })
  const { secret } = await enrolTotp(app, refreshed.json().access, clock.now)
  clock.advance(30_000)
  const sessionsBefore = await count('sessions')

  const res = await callback(app, await throughProvider(app, 'google'))
  t.equal(res.statusCode, 302)
  t.equal(refreshCookieOf(res), undefined, 'no refresh cookie before the second factor')
  t.equal(await count('sessions'), sessionsBefore, 'no session yet')
  t.equal(res.headers['referrer-policy'], 'no-referrer')
  const location = new URL(res.headers.location as string)
  t.equal(location.origin + location.pathname + location.search, APP_REDIRECT, 'nothing in the path or query')
  const fragment = new URLSearchParams(location.hash.slice(1))
  t.equal(fragment.get('mfa_required'), 'true')
  t.equal(fragment.get('methods'), 'totp,recovery_code')
  const mfaToken = fragment.get('mfa_token')!
  t.match(mfaToken, /^[A-Za-z0-9_-]{43}$/)

  const verified = await app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: mfaToken, method: 'totp', code: totpCode(secret, clock.now()) } })
  t.equal(verified.statusCode, 200, verified.body)
  t.ok(refreshCookieOf(verified), 'the cookie comes with the second step')
  t.same([decodeJwt(verified.json().access).amr, decodeJwt(verified.json().access).acr], [['fed', 'otp', 'mfa'], 'aal2'])
  const again = await app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: mfaToken, method: 'totp', code: totpCode(secret, clock.now()) } })
  t.equal(again.json().code, 'invalid_mfa_token', 'the mfa_token works once')
})
