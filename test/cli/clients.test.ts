// create-client, list-clients and delete-client as child processes.
import t from 'tap'
import { build } from '../helper.js'
import { basicOf, postForm } from '../oauth-helper.js'
import { portcullis, tempDatabase } from './run.js'

t.test('create-client prints the secret once; list-clients; delete-client', async t => {
  const db = await tempDatabase(t)
  const created = await portcullis(['create-client', '--name', 'billing', '--scope', 'orders.read', '--scope', 'orders.write invoices.read', '--json'], db.env)
  t.equal(created.code, 0, created.stderr)
  const client = JSON.parse(created.stdout)
  t.same(client.scopes, ['invoices.read', 'orders.read', 'orders.write'])
  t.equal(client.name, 'billing')
  const rows = await db.query<{ secret_hash: string }>('SELECT secret_hash FROM service_clients')
  t.equal(rows.length, 1)
  t.not(rows[0].secret_hash, client.client_secret, 'stored hashed')

  const app = await build(t, {}, { env: { DATABASE_URL: db.url } })
  const token = await postForm(app, '/oauth/token', { grant_type: 'client_credentials' }, basicOf(client))
  t.equal(token.statusCode, 200, 'the printed secret works')

  const text = await portcullis(['create-client', '--name', 'feed reader'], db.env)
  t.equal(text.code, 0, text.stderr)
  t.match(text.stdout, /^Created client feed reader\.\nclient_id: +\S+\nclient_secret: +\S{43}\nscopes: +\(none\)\nThe secret is not shown again/)

  const list = await portcullis(['list-clients'], db.env)
  t.equal(list.code, 0, list.stderr)
  t.match(list.stdout, /^CLIENT_ID +NAME +SCOPES +CREATED +LAST_USED\n/)
  t.match(list.stdout, new RegExp(`${client.client_id} +billing +invoices.read orders.read orders.write +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d +\\d{4}`))
  t.notMatch(list.stdout, client.client_secret)
  const json = JSON.parse((await portcullis(['list-clients', '--json'], db.env)).stdout)
  t.equal(json.length, 2)
  t.notOk('client_secret' in json[0])

  const deleted = await portcullis(['delete-client', client.client_id], db.env)
  t.equal(deleted.code, 0, deleted.stderr)
  t.equal(deleted.stdout, `Deleted client ${client.client_id}.\n`)
  const again = await portcullis(['delete-client', client.client_id], db.env)
  t.equal(again.code, 1)
  t.match(again.stderr, /No client with id/)
  t.same((await db.query<{ subject: string }>('SELECT subject FROM revocation_events')).map(r => r.subject), [client.client_id], 'the feed names the deleted client')
})

t.test('usage errors and help', async t => {
  const db = await tempDatabase(t)
  const [noName, badScope, help, missingId, empty] = await Promise.all([
    portcullis(['create-client'], db.env),
    portcullis(['create-client', '--name', 'x', '--scope', 'a"b'], db.env),
    portcullis(['create-client', '--help']),
    portcullis(['delete-client'], db.env),
    portcullis(['list-clients'], db.env)
  ])
  t.equal(noName.code, 1)
  t.match(noName.stderr, /Missing --name/)
  t.equal(badScope.code, 1)
  t.match(badScope.stderr, /not a valid scope/)
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: portcullis create-client --name <name>/)
  t.equal(missingId.code, 1)
  t.match(missingId.stderr, /Missing <client_id>/)
  t.equal(empty.stdout, 'No clients.\n')
})
