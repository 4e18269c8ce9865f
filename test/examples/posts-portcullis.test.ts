// The posts example against a real Portcullis process: its tokens, its permissions, its logout-all.
import t from 'tap'
import { PASSWORD } from '../helper.js'
import { portcullis as runCli, tempDatabase } from '../cli/run.js'
import { startServer } from '../portcullis-process.js'
import { waitUntil } from '../wait-until.js'
import { buildPostsApp } from '../../examples/posts/app.js'

const ISSUER = 'http://portcullis.test'
const POLL_INTERVAL_MS = 200

async function call (url: string, init: { method?: string, token?: string, body?: unknown } = {}) {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
      ...(init.token !== undefined && { authorization: `Bearer ${init.token}` })
    },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) })
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text) }
}

t.test('a Portcullis token works in the posts service; permissions and logout-all are honoured', async t => {
  // Migrated first, as an operator does: the CLI refuses a database that does not exist.
  const { env } = await tempDatabase(t)
  // The operator's way in: a superuser from the CLI, before the server starts.
  const created = await runCli(['create-superuser', '--no-input', '--email', 'admin@example.com', '--username', 'admin'], { ...env, PORTCULLIS_PASSWORD: PASSWORD })
  t.equal(created.code, 0, created.stderr)
  const server = await startServer(t, { ...env, JWT_ISSUER: ISSUER, RATE_LIMIT_LOGIN_IP: 'off', RATE_LIMIT_REGISTER_IP: 'off' })
  const api = (path: string) => `${server.url}${path}`
  const login = async (email: string) => {
    const res = await call(api('/api/auth/login'), { body: { email, password: PASSWORD } })
    t.equal(res.status, 200, `login ${email}`)
    return res.body.access as string
  }

  const admin = await login('admin@example.com')
  const client = await call(api('/api/admin/clients'), { token: admin, body: { name: 'posts-service', scopes: [] } })
  t.equal(client.status, 201, 'a client for the posts service, to read the revocation feed')
  const permission = await call(api('/api/admin/permissions'), { token: admin, body: { codename: 'posts.add', description: 'Can add post' } })
  t.equal(permission.status, 201)

  const posts = await buildPostsApp({
    portcullis: {
      issuer: ISSUER,
      audience: 'portcullis',
      jwksUrl: api('/.well-known/jwks.json'),
      revocations: { url: api('/api/auth/revocations'), client: { id: client.body.client_id, secret: client.body.client_secret }, intervalMs: POLL_INTERVAL_MS }
    }
  })
  t.teardown(() => posts.close())
  await posts.ready()
  t.type(posts.portcullis.revocations!.lastSuccessAt, 'number', 'the feed accepted the client')
  const write = (token: string) => posts.inject({ method: 'POST', url: '/posts', payload: { title: 'Hi', body: 'From Ada' }, headers: { authorization: `Bearer ${token}` } })

  const registered = await call(api('/api/auth/register'), { body: { email: 'ada@example.com', username: 'ada', password: PASSWORD } })
  t.equal(registered.status, 201)
  const before = await login('ada@example.com')
  const denied = await write(before)
  t.equal(denied.statusCode, 403, 'a Portcullis token without posts.add')
  t.equal(denied.json().code, 'permission_denied')

  const granted = await call(api(`/api/admin/users/${registered.body.user.id}/permissions`), { method: 'PUT', token: admin, body: { permissions: ['posts.add'] } })
  t.equal(granted.status, 200)
  const access = await login('ada@example.com')
  const written = await write(access)
  t.equal(written.statusCode, 201, 'a Portcullis token with posts.add')
  t.equal(written.json().author, registered.body.user.id)

  const loggedOut = await call(api('/api/auth/logout/all'), { method: 'POST', token: access })
  t.equal(loggedOut.status, 204)
  // "By the next poll", as a condition rather than a stopwatch: the second poll that succeeds after
  // the logout-all began after it (polls run one at a time), so it has seen the revocation.
  const loggedOutAt = Date.now()
  const feed = posts.portcullis.revocations!
  const pollsSince = new Set<number>()
  await waitUntil(() => {
    if ((feed.lastSuccessAt ?? 0) > loggedOutAt) pollsSince.add(feed.lastSuccessAt!)
    return pollsSince.size >= 2
  }, POLL_INTERVAL_MS * 10, 'two polls of the revocation feed after the logout-all', t)
  const refused = await write(access)
  t.equal(refused.statusCode, 401, 'the old token is refused once the feed has polled after the logout-all')
  t.equal(refused.json().code, 'token_not_valid')
})
