// The whole user journey through a client generated from openapi.json (openapi-typescript types,
// openapi-fetch calls) against a real server process: if the document lies, this does not compile or fails.
import t from 'tap'
import createClient from 'openapi-fetch'
import type { paths } from '../generated/portcullis-api.js'
import { PASSWORD } from '../helper.js'
import { portcullis as runCli, tempDatabase } from '../cli/run.js'
import { startServer } from '../portcullis-process.js'

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** The tokens of a login answer, as a generated client narrows it: these accounts have no second factor. */
function signedIn<T extends object> (data: T | undefined): Exclude<T, { mfa_required: true }> {
  if (data === undefined || 'mfa_required' in data) throw new Error('the login asked for a second factor')
  return data as Exclude<T, { mfa_required: true }>
}

t.test('register, login, me, refresh, logout, admin, client credentials and introspection, all through the generated client', async t => {
  // Migrated first, as an operator does: the CLI refuses a database that does not exist.
  const { env } = await tempDatabase(t)
  const created = await runCli(['create-superuser', '--no-input', '--email', 'admin@example.com', '--username', 'admin'], { ...env, PORTCULLIS_PASSWORD: PASSWORD })
  t.equal(created.code, 0, created.stderr)
  const server = await startServer(t, { ...env, RATE_LIMIT_LOGIN_IP: 'off', RATE_LIMIT_REGISTER_IP: 'off' })
  const api = createClient<paths>({ baseUrl: server.url })

  const registered = await api.POST('/api/auth/register', { body: { email: 'ada@example.com', username: 'ada', password: PASSWORD } })
  t.equal(registered.response.status, 201, 'register')
  const userId = registered.data!.user.id

  const login = await api.POST('/api/auth/login', { body: { email: 'ada@example.com', password: PASSWORD } })
  t.equal(login.response.status, 200, 'login')
  // The login answer is a union: tokens, or mfa_required for an account with a second factor.
  const session = signedIn(login.data)
  t.equal(session.token_type, 'Bearer')
  t.equal(session.user.id, userId)

  const me = await api.GET('/api/auth/me', { headers: bearer(session.access) })
  t.equal(me.response.status, 200, 'me')
  t.equal(me.data!.username, 'ada')

  const refreshed = await api.POST('/api/auth/token/refresh', { body: { refresh: session.refresh! } })
  t.equal(refreshed.response.status, 200, 'refresh')
  t.not(refreshed.data!.refresh, session.refresh, 'the refresh token rotated')

  const unauthenticated = await api.GET('/api/auth/me')
  t.equal(unauthenticated.response.status, 401)
  t.equal(unauthenticated.error!.code, 'not_authenticated', 'errors are typed problem documents')

  const admin = await api.POST('/api/auth/login', { body: { username: 'admin', password: PASSWORD } })
  t.equal(admin.response.status, 200, 'admin login by username')
  const adminSession = signedIn(admin.data)
  const users = await api.GET('/api/admin/users', { params: { query: { q: 'ada' } }, headers: bearer(adminSession.access) })
  t.equal(users.response.status, 200, 'an admin call')
  t.same(users.data!.items.map(user => user.username), ['ada'])
  const client = await api.POST('/api/admin/clients', { body: { name: 'reports', scopes: ['reports.read'] }, headers: bearer(adminSession.access) })
  t.equal(client.response.status, 201, 'a client registered')
  const credentials = { client_id: client.data!.client_id, client_secret: client.data!.client_secret }

  const token = await api.POST('/oauth/token', { body: { grant_type: 'client_credentials', ...credentials } })
  t.equal(token.response.status, 200, 'client-credentials token')
  t.equal(token.data!.token_type, 'Bearer')
  t.equal(token.data!.scope, 'reports.read')

  const introspected = await api.POST('/oauth/introspect', { body: { token: token.data!.access_token, ...credentials } })
  t.equal(introspected.response.status, 200, 'introspection')
  t.match(introspected.data, { active: true, client_id: credentials.client_id, scope: 'reports.read' })
  const userToken = await api.POST('/oauth/introspect', { body: { token: refreshed.data!.access, ...credentials } })
  t.match(userToken.data, { active: true, sub: userId })

  const logout = await api.POST('/api/auth/logout', { body: { refresh: refreshed.data!.refresh! } })
  t.equal(logout.response.status, 204, 'logout')
  const afterLogout = await api.POST('/oauth/introspect', { body: { token: refreshed.data!.access, ...credentials } })
  t.same(afterLogout.data, { active: false }, 'the session\'s access token is no longer active')
})
