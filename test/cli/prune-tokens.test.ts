// prune-tokens as a child process: dead sessions, refresh tokens and one-time tokens go, live ones stay.
import t from 'tap'
import { build, loginUser } from '../helper.js'
import { portcullis, tempDatabase } from './run.js'

t.test('prune-tokens deletes what is dead in batches until none is left, and says how many', async t => {
  const db = await tempDatabase(t)
  const count = async (table: string) => (await db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0].n
  // Logins a month ago: their sessions, refresh tokens and verification tokens have all expired since.
  let clock = new Date(Date.now() - 30 * 86400_000)
  const app = await build(t, {}, { now: () => clock, env: { DATABASE_URL: db.url } })
  const old = await loginUser(app)
  await loginUser(app)
  await loginUser(app)
  const rotated = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: old.refresh } })
  t.equal(rotated.statusCode, 200)
  // Today: one live session, and one just logged out (kept while its access tokens may live).
  clock = new Date()
  const live = await loginUser(app)
  const loggedOut = await loginUser(app)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refresh: loggedOut.refresh } })).statusCode, 204)
  t.equal(await count('sessions'), 5)
  t.equal(await count('refresh_tokens'), 6)
  t.equal(await count('one_time_tokens'), 5)
  // A social login abandoned at the provider a month ago, and one started just now.
  const state = { provider: 'github', codeVerifier: 'v'.repeat(43), nonce: null, redirectTo: 'https://app.example.com/' }
  await app.repositories.socialAccounts.saveState('abandoned', { ...state, createdAt: new Date(Date.now() - 30 * 86400_000), expiresAt: new Date(Date.now() - 30 * 86400_000 + 600_000) })
  // The second step of three logins: expired, used, and pending.
  const challenge = { purpose: 'login' as const, userId: old.id, data: '{"amr":["pwd"]}', createdAt: new Date() }
  await app.repositories.mfa.issueChallenge({ ...challenge, id: 'expired', tokenHash: 'a'.repeat(64), expiresAt: new Date(Date.now() - 1000) })
  await app.repositories.mfa.issueChallenge({ ...challenge, id: 'used', tokenHash: 'b'.repeat(64), expiresAt: new Date(Date.now() + 300_000) })
  await app.repositories.mfa.consumeChallenge('used', new Date())
  await app.repositories.mfa.issueChallenge({ ...challenge, id: 'pending', tokenHash: 'c'.repeat(64), expiresAt: new Date(Date.now() + 300_000) })
  // Django refresh tokens exchanged during a cut-over: one has expired since, one has not.
  await app.repositories.django.useRefreshToken('expired-jti', new Date(Date.now() - 1000), new Date(Date.now() - 86400_000))
  await app.repositories.django.useRefreshToken('live-jti', new Date(Date.now() + 86400_000), new Date())
  await app.repositories.socialAccounts.saveState('pending', { ...state, createdAt: new Date(), expiresAt: new Date(Date.now() + 600_000) })

  const pruned = await portcullis(['prune-tokens', '--batch-size', '1'], db.env)
  t.equal(pruned.code, 0, pruned.stderr)
  const match = /^Deleted (\d+): (\d+) expired or revoked sessions and refresh tokens, (\d+) used or expired one-time tokens, (\d+) old revocations, (\d+) abandoned social logins, (\d+) used or expired MFA tokens, (\d+) expired Django refresh tokens\.\n$/.exec(pruned.stdout)
  t.ok(match, pruned.stdout)
  const [total, sessions, oneTime, revocations, socialStates, mfaTokens, djangoTokens] = (match ?? []).slice(1).map(Number)
  t.equal(oneTime, 3, 'the three verification tokens of a month ago')
  t.ok(sessions >= 3, 'at least the three dead sessions (their tokens may go with them)')
  t.equal(socialStates, 1, 'the abandoned social login')
  t.equal(mfaTokens, 2, 'the expired and the used mfa_token, not the pending one')
  t.equal(djangoTokens, 1, 'the expired Django refresh token, not the live one')
  t.equal(total, sessions + oneTime + revocations + socialStates + mfaTokens + djangoTokens)
  t.same((await db.query<{ jti: string }>('SELECT jti FROM django_refresh_tokens')).map(row => row.jti), ['live-jti'])
  t.same((await db.query<{ id: string }>('SELECT id FROM mfa_challenges')).map(row => row.id), ['pending'])
  t.equal(await count('social_login_states'), 1, 'the pending social login stays')
  t.equal(await count('sessions'), 2, 'the live and the just-revoked session stay')
  t.equal(await count('refresh_tokens'), 2)
  t.equal(await count('one_time_tokens'), 2)

  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: live.refresh } })
  t.equal(refreshed.statusCode, 200, 'the live session still works')

  const again = await portcullis(['prune-tokens'], db.env)
  t.equal(again.stdout, 'Deleted 0: 0 expired or revoked sessions and refresh tokens, 0 used or expired one-time tokens, 0 old revocations, 0 abandoned social logins, 0 used or expired MFA tokens, 0 expired Django refresh tokens.\n')
})
