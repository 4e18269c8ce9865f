// list-users as a child process: the table, JSON, --query and --limit.
import t from 'tap'
import { build, registerUser, newUser } from '../helper.js'
import { portcullis, tempDatabase } from './run.js'

t.test('list-users prints a table newest first, or JSON; --query filters and --limit cuts', async t => {
  const db = await tempDatabase(t)
  let clock = new Date('2026-03-01T09:00:00Z')
  const app = await build(t, {}, { now: () => clock, env: { DATABASE_URL: db.url } })
  const { users } = app.auth.repositories
  const ada = await registerUser(app, newUser({ email: 'ada@example.com', username: 'ada' }))
  clock = new Date('2026-03-02T10:30:00Z')
  const bob = await registerUser(app, newUser({ email: 'bob@example.org', username: 'bob_the_builder' }))
  await users.update(bob.id, { isStaff: true, emailVerified: true, isActive: false })
  clock = new Date('2026-03-03T11:45:00Z')
  const root = await registerUser(app, newUser({ email: 'root@example.com', username: 'root' }))
  await users.update(root.id, { isSuperuser: true, isStaff: true, emailVerified: true, isBanned: true })
  t.ok(ada.id)

  const [tableOut, json, query, limited, none, noneJson] = await Promise.all([
    portcullis(['list-users'], db.env),
    portcullis(['list-users', '--json'], db.env),
    portcullis(['list-users', '-q', 'EXAMPLE.COM'], db.env),
    portcullis(['list-users', '--limit', '1'], db.env),
    portcullis(['list-users', '--query', 'nobody'], db.env),
    portcullis(['list-users', '--query', 'nobody', '--json'], db.env)
  ])
  t.equal(tableOut.code, 0, tableOut.stderr)
  t.equal(tableOut.stdout, [
    'EMAIL             USERNAME         FLAGS                            JOINED',
    'root@example.com  root             superuser,staff,verified,banned  2026-03-03 11:45',
    'bob@example.org   bob_the_builder  staff,verified,inactive          2026-03-02 10:30',
    'ada@example.com   ada              -                                2026-03-01 09:00',
    ''
  ].join('\n'))
  t.match(tableOut.stderr, /^Database: .+\n$/, 'only the database it used')

  t.equal(json.code, 0, json.stderr)
  const items = JSON.parse(json.stdout)
  t.same(items.map((u: { username: string }) => u.username), ['root', 'bob_the_builder', 'ada'])
  t.match(items[0], { id: root.id, email: 'root@example.com', is_superuser: true, is_banned: true, ban_reason: null, date_joined: '2026-03-03T11:45:00.000Z', groups: [], providers: [] })
  t.ok(items[0].permissions.includes('users.ban'), 'a superuser\'s permissions are all of them')
  for (const item of items) t.notOk('password_hash' in item || 'passwordHash' in item, 'no hash in the JSON')

  t.match(query.stdout, /^EMAIL .*\nroot@example\.com .*\nada@example\.com .*\n$/, 'a case-insensitive substring of the email or username')
  t.equal(limited.code, 0)
  t.match(limited.stdout, /^EMAIL .*\nroot@example\.com .*\n$/)
  t.match(limited.stderr, /^Database: .+\nOnly the newest 1 are shown; more users match\. Raise --limit or narrow with --query\.\n$/)
  t.equal(none.stdout, 'No users match "nobody".\n')
  t.same(JSON.parse(noneJson.stdout), [])
})
