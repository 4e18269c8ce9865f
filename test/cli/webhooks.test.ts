// The webhooks command: create (secret once), list, deliveries, retry, delete; bad input is exit 1.
import t from 'tap'
import { build, newUser } from '../helper.js'
import { portcullis, tempDatabase } from './run.js'

t.test('webhooks create, list, deliveries, retry and delete', async t => {
  const db = await tempDatabase(t)
  const app = await build(t, {}, { env: { DATABASE_URL: db.url, WEBHOOK_RETRY_DELAYS: '1h' } })
  const created = await portcullis(['webhooks', 'create', '--url', 'https://hooks.example.com/p', '--event', 'user.created', '--description', 'crm'], db.env)
  t.equal(created.code, 0, created.stderr)
  const webhook = JSON.parse(created.stdout)
  t.match(webhook.secret, /^whsec_/)
  const listed = await portcullis(['webhooks', 'list'], db.env)
  t.same(JSON.parse(listed.stdout).map((w: { id: string }) => w.id), [webhook.id])
  t.notOk(listed.stdout.includes(webhook.secret))
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/register', payload: newUser() })).statusCode, 201)
  const deliveries = await portcullis(['webhooks', 'deliveries', webhook.id], db.env)
  t.equal(deliveries.code, 0, deliveries.stderr)
  const [delivery] = JSON.parse(deliveries.stdout)
  t.equal(delivery.type, 'user.created')
  const retried = await portcullis(['webhooks', 'retry', webhook.id, delivery.id], db.env)
  t.equal(retried.code, 0, retried.stderr)
  t.equal((await portcullis(['webhooks', 'retry', webhook.id, 'nope'], db.env)).code, 1)
  t.equal((await portcullis(['webhooks', 'create', '--url', 'http://hooks.example.com/', '--event', 'user.created'], db.env)).code, 1)
  t.equal((await portcullis(['webhooks', 'create', '--url', 'https://hooks.example.com/', '--event', 'user.exploded'], db.env)).code, 1)
  t.equal((await portcullis(['webhooks', 'deliveries', webhook.id, '--status', 'lost'], db.env)).code, 1)
  const deleted = await portcullis(['webhooks', 'delete', webhook.id], db.env)
  t.equal(deleted.code, 0, deleted.stderr)
  t.equal((await portcullis(['webhooks', 'delete', webhook.id], db.env)).code, 1)
  const events = await app.repositories.audit.list({ limit: 10 })
  t.ok(events.length > 0)
})
