// MFA_REQUIRED_FOR, the admin reset (DELETE /api/admin/users/{id}/mfa) and `portcullis mfa-reset`.
import t from 'tap'
import { bearer, build, loginUser, manualClock, PASSWORD } from '../helper.js'
import { loginAs } from '../admin-helper.js'
import { portcullis, tempDatabase } from '../cli/run.js'
import { claimsOf, enrolTotp, MFA_ENV } from './mfa-helper.js'

t.test('MFA_REQUIRED_FOR=staff: staff without a second factor log in, but every admin operation is 403 until they enrol', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now, env: { ...MFA_ENV, MFA_REQUIRED_FOR: 'staff' } })
  const admin = await loginAs(app, { staff: true, permissions: ['users.view', 'users.change'] })
  const listing = await app.inject({ url: '/api/admin/users', headers: bearer(admin.access) })
  t.equal(listing.statusCode, 403)
  t.equal(listing.json().code, 'mfa_enrolment_required')
  t.equal((await app.inject({ url: '/api/auth/me', headers: bearer(admin.access) })).statusCode, 200, 'the rest of the API is open')

  const { secret } = await enrolTotp(app, admin.access, clock.now)
  const after = await app.inject({ url: '/api/admin/users', headers: bearer(admin.access) })
  t.equal(after.statusCode, 200, 'open once a factor is confirmed')
  const shown = after.json().items.find((item: { id: string }) => item.id === admin.id)
  t.same(shown.mfa, { totp: true, passkeys: 0, recovery_codes_left: 10 }, 'the admin view shows the factors')
  t.notOk(JSON.stringify(after.json()).includes(secret), 'never the secret')

  const user = await loginUser(app)
  t.equal((await app.inject({ url: '/api/auth/me', headers: bearer(user.access) })).statusCode, 200, 'a user out of scope is not concerned')
})

t.test('MFA_REQUIRED_FOR=all: every protected operation but enrolment is 403 without a second factor', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now, env: { ...MFA_ENV, MFA_REQUIRED_FOR: 'all' } })
  const user = await loginUser(app)
  const me = await app.inject({ url: '/api/auth/me', headers: bearer(user.access) })
  t.equal(me.statusCode, 403)
  t.equal(me.json().code, 'mfa_enrolment_required')
  t.match(me.headers['content-type'], 'application/problem+json')
  t.equal((await app.inject({ url: '/api/auth/mfa', headers: bearer(user.access) })).statusCode, 200, 'the factor list is enrolment')
  const { secret } = await enrolTotp(app, user.access, clock.now)
  t.equal((await app.inject({ url: '/api/auth/me', headers: bearer(user.access) })).statusCode, 200)
  t.ok(secret)
})

t.test('DELETE /api/admin/users/{id}/mfa removes every factor and revokes the sessions; users.change, 404', async t => {
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now, env: MFA_ENV })
  const admin = await loginAs(app, { permissions: ['users.change', 'users.view'] })
  const viewer = await loginAs(app, { permissions: ['users.view'] })
  const user = await loginUser(app)
  await enrolTotp(app, user.access, clock.now)

  const denied = await app.inject({ method: 'DELETE', url: `/api/admin/users/${user.id}/mfa`, headers: bearer(viewer.access) })
  t.equal(denied.statusCode, 403)
  t.equal(denied.json().code, 'permission_denied')
  const unknown = await app.inject({ method: 'DELETE', url: '/api/admin/users/00000000-0000-0000-0000-000000000000/mfa', headers: bearer(admin.access) })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'not_found')

  const view = await app.inject({ url: `/api/admin/users/${user.id}`, headers: bearer(admin.access) })
  t.same(view.json().mfa, { totp: true, passkeys: 0, recovery_codes_left: 10 })
  const reset = await app.inject({ method: 'DELETE', url: `/api/admin/users/${user.id}/mfa`, headers: bearer(admin.access) })
  t.equal(reset.statusCode, 204)
  t.same((await app.inject({ url: `/api/admin/users/${user.id}`, headers: bearer(admin.access) })).json().mfa, { totp: false, passkeys: 0, recovery_codes_left: 0 })
  const old = await app.inject({ url: '/api/auth/me', headers: bearer(user.access) })
  t.equal(old.statusCode, 401, 'its sessions are revoked')
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
  t.equal(claimsOf(login.json().access).acr, 'aal1', 'the next login asks for the password only')
})

t.test('portcullis mfa-reset <user>', async t => {
  const db = await tempDatabase(t)
  const clock = manualClock()
  const app = await build(t, {}, { now: clock.now, env: { ...MFA_ENV, DATABASE_URL: db.url } })
  const user = await loginUser(app)
  const { secret } = await enrolTotp(app, user.access, clock.now)

  const reset = await portcullis(['mfa-reset', user.email], db.env)
  t.equal(reset.code, 0, reset.stderr)
  t.equal(reset.stdout, `Removed the second factors of ${user.username} <${user.email}>; every session of the user is revoked.\n`)
  t.notOk(reset.stdout.includes(secret))
  const again = await portcullis(['mfa-reset', user.username], db.env)
  t.equal(again.code, 0)
  t.match(again.stdout, /had no second factor/)
  const unknown = await portcullis(['mfa-reset', 'nobody@example.com'], db.env)
  t.equal(unknown.code, 1)
  const usage = await portcullis(['mfa-reset'], db.env)
  t.equal(usage.code, 1)
  t.match(usage.stderr, /mfa-reset --help/)
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
  t.type(login.json().access, 'string', 'logs in with the password alone')
})

t.test('MFA_REQUIRED_FOR=all: the operations the document says can answer 403 mfa_enrolment_required do, and the others are open', async t => {
  const app = await build(t, {}, { env: { ...MFA_ENV, MFA_REQUIRED_FOR: 'all' } })
  const user = await loginUser(app)
  const document = (await app.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, { security?: Array<Record<string, unknown>>, responses: Record<string, { description: string }> }>> }
  const closed: string[] = []
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!(operation.security ?? []).some(scheme => 'bearerAuth' in scheme)) continue
      const documented = operation.responses['403']?.description.includes('mfa_enrolment_required') === true
      const url = path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000')
      const res = await app.inject({ method: method.toUpperCase() as 'GET', url, headers: bearer(user.access), ...(method !== 'get' && method !== 'delete' && { payload: {} }) })
      const refused = res.statusCode === 403 && res.json().code === 'mfa_enrolment_required'
      t.equal(refused, documented, `${method.toUpperCase()} ${path}: ${res.statusCode} ${documented ? '(documented)' : '(not documented)'}`)
      if (refused) closed.push(`${method} ${path}`)
    }
  }
  t.ok(closed.length > 30, `${closed.length} operations closed`)
})
