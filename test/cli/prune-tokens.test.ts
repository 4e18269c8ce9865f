// prune-tokens as a child process: dead sessions, refresh tokens and one-time tokens go, live ones stay.
import t from 'tap'
import { build, loginUser, ON_POSTGRES, rawDatabase } from '../helper.js'
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

  // Webhook deliveries: delivered and dead ones of 40 days ago go (WEBHOOK_DELIVERY_RETENTION, 30d),
  // a pending one of then and a delivered one of today stay.
  await app.repositories.webhooks.create({ id: 'hook', url: 'https://hooks.example.com/in', events: ['user.created'], description: null, createdAt: new Date(), secret: 'whsec_test' })
  const raw = rawDatabase(t, db.url)
  const at = (daysAgo: number) => { const date = new Date(Date.now() - daysAgo * 86400_000); return ON_POSTGRES ? date : date.getTime() }
  for (const [id, status, daysAgo] of [['d-delivered', 'delivered', 40], ['d-dead', 'dead', 40], ['d-pending', 'pending', 40], ['d-today', 'delivered', 0]] as const) {
    // A pending delivery not due for a year: the dispatcher of the app above leaves it alone.
    await raw.run(`INSERT INTO webhook_deliveries (id, webhook_id, event_seq, event_id, type, payload, ordering_key, status, attempts, next_attempt_at, created_at)
      VALUES (?, 'hook', 1, ?, 'user.created', '{}', '', ?, 1, ?, ?)`, id, `e-${id}`, status, at(-365), at(daysAgo))
  }

  const pruned = await portcullis(['prune-tokens', '--batch-size', '1'], db.env)
  t.equal(pruned.code, 0, pruned.stderr)
  const match = /^Deleted (\d+): (\d+) expired or revoked sessions and refresh tokens, (\d+) used or expired one-time tokens, (\d+) old revocations, (\d+) abandoned social logins, (\d+) used or expired MFA tokens, (\d+) expired Django refresh tokens, (\d+) old webhook deliveries\.\n$/.exec(pruned.stdout)
  t.ok(match, pruned.stdout)
  const [total, sessions, oneTime, revocations, socialStates, mfaTokens, djangoTokens, deliveries] = (match ?? []).slice(1).map(Number)
  t.equal(oneTime, 3, 'the three verification tokens of a month ago')
  t.ok(sessions >= 3, 'at least the three dead sessions (their tokens may go with them)')
  t.equal(socialStates, 1, 'the abandoned social login')
  t.equal(mfaTokens, 2, 'the expired and the used mfa_token, not the pending one')
  t.equal(djangoTokens, 1, 'the expired Django refresh token, not the live one')
  t.equal(deliveries, 2, 'the delivered and the dead delivery of 40 days ago')
  t.equal(total, sessions + oneTime + revocations + socialStates + mfaTokens + djangoTokens + deliveries)
  t.same((await db.query<{ id: string }>('SELECT id FROM webhook_deliveries ORDER BY id')).map(row => row.id), ['d-pending', 'd-today'], 'pending ones are never pruned')
  t.same((await db.query<{ jti: string }>('SELECT jti FROM django_refresh_tokens')).map(row => row.jti), ['live-jti'])
  t.same((await db.query<{ id: string }>('SELECT id FROM mfa_challenges')).map(row => row.id), ['pending'])
  t.equal(await count('social_login_states'), 1, 'the pending social login stays')
  t.equal(await count('sessions'), 2, 'the live and the just-revoked session stay')
  t.equal(await count('refresh_tokens'), 2)
  t.equal(await count('one_time_tokens'), 2)

  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: live.refresh } })
  t.equal(refreshed.statusCode, 200, 'the live session still works')

  const again = await portcullis(['prune-tokens'], db.env)
  t.equal(again.stdout, 'Deleted 0: 0 expired or revoked sessions and refresh tokens, 0 used or expired one-time tokens, 0 old revocations, 0 abandoned social logins, 0 used or expired MFA tokens, 0 expired Django refresh tokens, 0 old webhook deliveries.\n')
})
