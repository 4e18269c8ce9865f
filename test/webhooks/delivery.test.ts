// Webhooks against a real receiver on loopback: signatures checked with the receiver's own
// standardwebhooks verify, retries after 500s and timeouts, order per user, dead letter and replay,
// a crash between commit and delivery.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { Webhook } from 'standardwebhooks'
import { build, manualClock, newUser } from '../helper.js'
import { call, loginAs } from '../admin-helper.js'
import { waitUntil } from '../wait-until.js'
import { tempDatabase } from '../cli/run.js'

interface Received { id: string, timestamp: string, signature: string, body: string, json: { id: string, type: string, timestamp: string, data: Record<string, unknown> } }
type Behaviour = (req: IncomingMessage, res: ServerResponse, received: Received) => void

/** A receiver on 127.0.0.1 that records every request and answers as `behaviour` says (200 by default). */
async function receiver (t: Test) {
  const state = { received: [] as Received[], behaviour: ((_req, res) => { res.end() }) as Behaviour }
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', chunk => { body += chunk })
    req.on('end', () => {
      const entry = { id: String(req.headers['webhook-id']), timestamp: String(req.headers['webhook-timestamp']), signature: String(req.headers['webhook-signature']), body, json: JSON.parse(body) }
      state.received.push(entry)
      state.behaviour(req, res, entry)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks` }
}

const ENV = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_DELAYS: '1h,1h,1h', WEBHOOK_TIMEOUT: '1s' }

async function subscribe (t: Test, app: FastifyInstance, url: string, events = ['user.created', 'user.banned', 'user.unbanned', 'user.login']) {
  const admin = await loginAs(app, { permissions: ['webhooks.manage', 'users.ban'] })
  const res = await call(app, admin.access, 'POST', '/api/admin/webhooks', { url, events, description: 'test receiver' })
  t.equal(res.statusCode, 201, res.body)
  return { admin, webhook: res.json() as { id: string, secret: string } }
}

async function register (app: FastifyInstance): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: newUser() })
  return res.json().user.id
}

test('a delivery carries the event, signed per Standard Webhooks: the receiver’s own check passes', async t => {
  const { state, url } = await receiver(t)
  const app = await build(t, {}, { env: ENV })
  const { webhook } = await subscribe(t, app, url)
  t.match(webhook.secret, /^whsec_[A-Za-z0-9+/]{43}=$/)
  const userId = await register(app)
  await waitUntil(() => state.received.length >= 1, 10_000, 'the delivery', t)
  const [got] = state.received
  const verified = new Webhook(webhook.secret).verify(got.body, { 'webhook-id': got.id, 'webhook-timestamp': got.timestamp, 'webhook-signature': got.signature })
  t.same(verified, got.json, 'the signature verifies')
  t.equal(got.json.type, 'user.created')
  t.equal(got.json.id, got.id, 'webhook-id is the event id')
  t.equal(got.json.data.user_id, userId)
  t.throws(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(got.body, { 'webhook-id': got.id, 'webhook-timestamp': got.timestamp, 'webhook-signature': got.signature }), 'another secret does not verify')
  const audit = await app.repositories.audit.list({ type: 'user.created', subjectId: userId, limit: 1 })
  t.equal(audit[0].id, got.id, 'the audit entry and the delivery share the id')
  t.notOk(JSON.stringify(await app.repositories.audit.list({ limit: 100 })).includes(webhook.secret), 'the secret is in no event')
})

test('with KEY_ENCRYPTION_KEY the secret is stored sealed, and deliveries are still signed with it; without the key they fail, and say why', async t => {
  const { state, url } = await receiver(t)
  const db = await tempDatabase(t)
  const KEY = { KEY_ENCRYPTION_KEY: 'w'.repeat(16) + 'webhook-tests-encryption-key' }
  const app = await build(t, {}, { env: { ...ENV, ...db.env, ...KEY } })
  const { admin, webhook } = await subscribe(t, app, url)
  const [stored] = await db.query<{ secret: string }>('SELECT secret FROM webhooks')
  t.match(stored.secret, /^enc:v1:/, 'sealed')
  t.notOk(stored.secret.includes(webhook.secret.slice('whsec_'.length)), 'the secret is not in the row')
  await register(app)
  await waitUntil(() => state.received.length >= 1, 10_000, 'the delivery', t)
  const [got] = state.received
  t.same(new Webhook(webhook.secret).verify(got.body, { 'webhook-id': got.id, 'webhook-timestamp': got.timestamp, 'webhook-signature': got.signature }), got.json, 'signed with the secret shown at creation')

  // Another instance started without the key cannot sign: the delivery fails with a reason, and nothing is sent.
  await app.close()
  const keyless = await build(t, {}, { env: { ...ENV, ...db.env } })
  await register(keyless)
  const failed = async () => (await call(keyless, admin.access, 'GET', `/api/admin/webhooks/${webhook.id}/deliveries`)).json().items.filter((item: { last_error: string | null }) => item.last_error !== null)
  await waitUntil(async () => (await failed()).length >= 1, 10_000, 'the failed attempt', t)
  t.match((await failed())[0].last_error, /secret cannot be decrypted: KEY_ENCRYPTION_KEY/)
  t.equal(state.received.length, 1, 'nothing sent unsigned')
})

test('a receiver down for an hour gets everything, in order per user, once back; timeouts are retried too', async t => {
  const { state, url } = await receiver(t)
  const clock = manualClock()
  const app = await build(t, {}, { env: ENV, now: clock.now })
  const { admin, webhook } = await subscribe(t, app, url)
  let down = true
  let slow = true
  state.behaviour = (_req, res, got) => {
    if (down) return res.writeHead(503).end()
    // The first attempt after the outage hangs past WEBHOOK_TIMEOUT: a timeout, retried later.
    if (slow && got.json.type === 'user.created') { slow = false; return }
    res.end()
  }
  const userId = await register(app)
  for (let i = 0; i < 3; i++) {
    t.equal((await call(app, admin.access, 'POST', `/api/admin/users/${userId}/ban`, {})).statusCode, 200)
    t.equal((await call(app, admin.access, 'POST', `/api/admin/users/${userId}/unban`)).statusCode, 200)
  }
  await waitUntil(() => state.received.length >= 1, 10_000, 'the first attempt', t)
  const deliveries = async () => (await call(app, admin.access, 'GET', `/api/admin/webhooks/${webhook.id}/deliveries`)).json().items as Array<{ status: string, attempts: number, last_error: string | null, type: string }>
  await waitUntil(async () => (await deliveries()).some(d => d.attempts === 1), 10_000, 'the first failure recorded', t)
  t.equal(state.received.length, 1, 'one attempt while the first event of the user waits: the others queue behind it')
  t.match((await deliveries()).find(d => d.attempts === 1)?.last_error, 'HTTP 503')

  down = false
  clock.advance(3600_000 * 1.3)
  // The retry after the outage times out: one more hour.
  await waitUntil(async () => (await deliveries()).some(d => d.attempts === 2), 20_000, 'the timeout recorded', t)
  t.match((await deliveries()).find(d => d.attempts === 2)?.last_error, /timed out/)
  clock.advance(3600_000 * 1.3)
  await waitUntil(async () => (await app.repositories.webhooks.deliveries(webhook.id, { limit: 100 })).every(d => d.status === 'delivered'), 20_000, 'everything delivered', t)
  const delivered = state.received.filter((got, i, all) => all.findIndex(other => other.id === got.id) === i)
  const forUser = delivered.filter(got => got.json.data.user_id === userId).map(got => got.json.type)
  t.same(forUser, ['user.created', 'user.banned', 'user.unbanned', 'user.banned', 'user.unbanned', 'user.banned', 'user.unbanned'], 'in order')
  t.ok(state.received.filter(got => got.json.type === 'user.created' && got.json.data.user_id === userId).length >= 3, 'the 503, the timeout, then the delivery: same webhook-id each time')
  t.equal(new Set(state.received.filter(got => got.json.type === 'user.created' && got.json.data.user_id === userId).map(got => got.id)).size, 1)
})

test('retries used up: dead; the retry operation replays it', async t => {
  const { state, url } = await receiver(t)
  const clock = manualClock()
  const app = await build(t, {}, { env: { ...ENV, WEBHOOK_RETRY_DELAYS: '1m' }, now: clock.now })
  const { admin, webhook } = await subscribe(t, app, url, ['user.created'])
  state.behaviour = (_req, res) => { res.writeHead(500).end() }
  await register(app)
  const list = async (status: string) => (await call(app, admin.access, 'GET', `/api/admin/webhooks/${webhook.id}/deliveries?status=${status}`)).json().items as Array<{ id: string, attempts: number, next_attempt_at: string | null }>
  await waitUntil(async () => (await list('pending')).some(d => d.attempts === 1), 10_000, 'the first failure', t)
  clock.advance(90_000)
  await waitUntil(async () => (await list('dead')).length === 1, 10_000, 'the dead letter', t)
  const [dead] = await list('dead')
  t.equal(dead.attempts, 2)
  t.equal(dead.next_attempt_at, null)
  state.behaviour = (_req, res) => { res.end() }
  const retried = await call(app, admin.access, 'POST', `/api/admin/webhooks/${webhook.id}/deliveries/${dead.id}/retry`)
  t.equal(retried.statusCode, 202)
  await waitUntil(async () => (await list('delivered')).length === 1, 10_000, 'the replay delivered', t)
  t.equal(new Set(state.received.map(got => got.id)).size, 1, 'the replay has the same webhook-id')
  t.equal((await call(app, admin.access, 'POST', `/api/admin/webhooks/${webhook.id}/deliveries/nope/retry`)).statusCode, 404)
})

test('a retry of a delivery in flight leaves it to the attempt under way: one request, its outcome recorded', async t => {
  const { state, url } = await receiver(t)
  const db = await tempDatabase(t)
  const app = await build(t, {}, { env: { ...ENV, ...db.env, WEBHOOK_TIMEOUT: '60s' } })
  const { admin, webhook } = await subscribe(t, app, url, ['user.created'])
  const hanging: ServerResponse[] = []
  state.behaviour = (_req, res) => { hanging.push(res) }
  await register(app)
  await waitUntil(() => hanging.length === 1, 10_000, 'the attempt under way', t)
  const [delivery] = (await call(app, admin.access, 'GET', `/api/admin/webhooks/${webhook.id}/deliveries`)).json().items
  t.equal((await call(app, admin.access, 'POST', `/api/admin/webhooks/${webhook.id}/deliveries/${delivery.id}/retry`)).statusCode, 202)
  const [row] = await db.query<{ lease_until: unknown }>('SELECT lease_until FROM webhook_deliveries')
  t.not(row.lease_until, null, 'still leased to the attempt under way')
  hanging[0].end()
  const status = async () => (await call(app, admin.access, 'GET', `/api/admin/webhooks/${webhook.id}/deliveries`)).json().items[0]
  await waitUntil(async () => (await status()).status === 'delivered', 10_000, 'the attempt\'s outcome', t)
  t.equal((await status()).attempts, 1)
  t.equal(state.received.length, 1, 'sent once')
})

test('a crash between commit and delivery loses nothing: the next process delivers it, same webhook-id', async t => {
  const { state, url } = await receiver(t)
  const db = await tempDatabase(t)
  // The first process's attempt hangs (its receiver never answers): as if it were killed mid-delivery,
  // its lease stays behind.
  const first = await build(t, {}, { env: { ...ENV, ...db.env, WEBHOOK_TIMEOUT: '60s' } })
  await subscribe(t, first, url, ['user.created'])
  const hanging: ServerResponse[] = []
  state.behaviour = (_req, res) => { hanging.push(res) }
  await register(first)
  await waitUntil(() => state.received.length >= 1, 10_000, 'the attempt in flight', t)
  const [leased] = await db.query<{ lease_until: number | null, status: string }>('SELECT lease_until, status FROM webhook_deliveries')
  t.equal(leased.status, 'pending')
  t.ok(leased.lease_until !== null, 'claimed with a lease')
  state.behaviour = (_req, res) => { res.end() }
  // Another process, after the lease has lapsed, claims the row again.
  const clock = manualClock()
  clock.advance(10 * 60_000)
  await build(t, {}, { env: { ...ENV, ...db.env }, now: clock.now })
  const status = async () => (await db.query<{ status: string }>('SELECT status FROM webhook_deliveries'))[0].status
  await waitUntil(async () => await status() === 'delivered', 20_000, 'the redelivery', t)
  t.equal(state.received.length, 2)
  t.equal(new Set(state.received.map(got => got.id)).size, 1, 'the same webhook-id')
  // The first attempt now fails late: its lease is gone, so it cannot overwrite the delivery.
  for (const res of hanging) res.writeHead(500).end()
  await first.close()
  t.equal(await status(), 'delivered')
})

test('webhooks admin API: validation, https only by default, the secret once, 404s', async t => {
  const app = await build(t)
  const admin = await loginAs(app, { permissions: ['webhooks.manage'] })
  const create = (body: object) => call(app, admin.access, 'POST', '/api/admin/webhooks', body)
  for (const url of ['http://hooks.example.com/', 'https://127.0.0.1/', 'https://[::1]/', 'https://10.1.2.3/x', 'https://169.254.169.254/', 'https://localhost/', 'https://user:pw@hooks.example.com/', 'not a url']) {
    const res = await create({ url, events: ['user.created'] })
    t.equal(res.statusCode, 400, `${url}: ${res.body}`)
    t.equal(res.json().code, 'validation_failed')
  }
  for (const body of [{ url: 'https://hooks.example.com/', events: [] }, { url: 'https://hooks.example.com/', events: ['user.exploded'] }, { url: 'https://hooks.example.com/' }, { url: 'https://hooks.example.com/', events: ['user.created'], colour: 'red' }]) {
    t.equal((await create(body)).statusCode, 400, JSON.stringify(body))
  }
  const created = await create({ url: 'https://hooks.example.com/portcullis', events: ['user.login', 'user.created'] })
  t.equal(created.statusCode, 201)
  const { id, secret } = created.json()
  t.ok(secret)
  const listed = await call(app, admin.access, 'GET', '/api/admin/webhooks')
  t.same(listed.json().map((w: { id: string }) => w.id), [id])
  t.notOk(listed.body.includes(secret), 'never shown again')
  t.same((await call(app, admin.access, 'GET', `/api/admin/webhooks/${id}`)).json().events, ['user.created', 'user.login'])
  const patched = await call(app, admin.access, 'PATCH', `/api/admin/webhooks/${id}`, { events: ['user.banned'], description: null })
  t.equal(patched.statusCode, 200)
  t.same(patched.json().events, ['user.banned'])
  t.equal((await call(app, admin.access, 'PATCH', `/api/admin/webhooks/${id}`, { url: 'https://192.168.1.1/' })).statusCode, 400)
  t.equal((await call(app, admin.access, 'GET', `/api/admin/webhooks/${id}/deliveries?cursor=bm9wZQ`)).statusCode, 400)
  t.equal((await call(app, admin.access, 'GET', '/api/admin/webhooks/nope/deliveries')).statusCode, 404)
  t.equal((await call(app, admin.access, 'DELETE', `/api/admin/webhooks/${id}`)).statusCode, 204)
  t.equal((await call(app, admin.access, 'GET', `/api/admin/webhooks/${id}`)).statusCode, 404)
  const plain = await loginAs(app)
  t.equal((await call(app, plain.access, 'GET', '/api/admin/webhooks')).statusCode, 403)
})
