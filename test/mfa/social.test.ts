// A social login of an account with a second factor asks for it, as a password login does.
import t from 'tap'
import { decodeJwt } from 'jose'
import { bearer, manualClock } from '../helper.js'
import { buildSocialApp, googleGrant, startOidcProvider } from '../social/providers.js'
import { enrolTotp, MFA_ENV, totpCode } from './mfa-helper.js'

t.test('client-driven social login: mfa_required without tokens, then /mfa/verify gives amr fed+otp at aal2', async t => {
  const clock = manualClock()
  const google = await startOidcProvider(t)
  const { app, count } = await buildSocialApp(t, { ...google.env, ...MFA_ENV }, { now: clock.now })
  google.identity = { sub: 'g-1', email: 'grace@gmail.test', email_verified: true }
  const socialLogin = async () => app.inject({ method: 'POST', url: '/api/auth/social/google', payload: { ...await googleGrant(google) } })

  const first = await socialLogin()
  t.equal(first.statusCode, 200)
  t.equal(first.json().created, true)
  t.same(decodeJwt(first.json().access).amr, ['fed'])
  t.equal(decodeJwt(first.json().access).acr, 'aal1')
  const { secret } = await enrolTotp(app, first.json().access, clock.now)
  clock.advance(30_000)
  const sessionsBefore = await count('sessions')

  const second = await socialLogin()
  t.equal(second.statusCode, 200)
  t.equal(second.headers['cache-control'], 'no-store')
  t.same(Object.keys(second.json()).sort(), ['created', 'methods', 'mfa_required', 'mfa_token'])
  t.equal(second.json().created, false)
  t.equal(second.cookies.find(c => c.name === 'refresh_token'), undefined, 'no cookie')
  t.equal(await count('sessions'), sessionsBefore, 'no session yet')

  const verified = await app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { mfa_token: second.json().mfa_token, method: 'totp', code: totpCode(secret, clock.now()) } })
  t.equal(verified.statusCode, 200)
  const claims = decodeJwt(verified.json().access)
  t.same(claims.amr, ['fed', 'otp', 'mfa'])
  t.equal(claims.acr, 'aal2')
  const me = await app.inject({ url: '/api/auth/me', headers: bearer(verified.json().access) })
  t.equal(me.json().email, 'grace@gmail.test')
})
