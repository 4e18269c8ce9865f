// import-django: a Django database made by real Django (test/django/fixtures) imported through the CLI.
import t from 'tap'
import Database from 'better-sqlite3'
import { portcullis, tempDatabase, type TempDatabase } from '../cli/run.js'
import { build, ON_POSTGRES, rawDatabase } from '../helper.js'
import { djangoDatabase, fixture } from './fixture.js'

/** Every row of the tables an import writes, in a stable order: to compare a database before and after. */
async function snapshot (db: TempDatabase) {
  return {
    users: await db.query('SELECT * FROM users ORDER BY id'),
    groups: await db.query('SELECT * FROM groups ORDER BY id'),
    permissions: await db.query('SELECT * FROM permissions ORDER BY codename'),
    groupPermissions: await db.query('SELECT * FROM group_permissions ORDER BY group_id, codename'),
    userGroups: await db.query('SELECT * FROM user_groups ORDER BY user_id, group_id'),
    userPermissions: await db.query('SELECT * FROM user_permissions ORDER BY user_id, codename')
  }
}

interface Row { id: string, email: string, username: string, password_hash: string | null, legacy_id: number, is_active: unknown, is_staff: unknown, is_superuser: unknown, last_login: unknown, date_joined: unknown }
const truthy = (value: unknown) => value === true || value === 1

t.test('imports users, hashes, flags, groups and permissions as Django has them; a second run changes nothing', async t => {
  const db = await tempDatabase(t)
  const from = djangoDatabase(t)
  const first = await portcullis(['import-django', '--from', from], db.env)
  t.equal(first.code, 0, first.stderr)
  t.match(first.stdout, 'Users: 12 created, 0 updated, 0 unchanged, 0 refused.')
  t.match(first.stdout, /Groups: 2 created, 0 updated\. Permissions: \d+ created\./)

  const users = await db.query<Row>('SELECT * FROM users')
  t.equal(users.length, 12)
  for (const [username, expected] of Object.entries(fixture.default.users)) {
    const row = users.find(u => u.username === username)!
    t.ok(row, username)
    t.equal(Number(row.legacy_id), expected.id, `${username} keeps its Django id`)
    t.equal(row.email, expected.email.toLowerCase())
    t.equal(row.password_hash, expected.password === null ? null : expected.hash, `${username}: the hash as Django stored it`)
  }
  const byName = (name: string) => users.find(u => u.username === name)!
  t.notOk(truthy(byName('inactive').is_active))
  t.ok(truthy(byName('staff').is_staff))
  t.ok(truthy(byName('root').is_superuser) && truthy(byName('root').is_staff))
  t.notOk(truthy(byName('pbkdf2').is_staff))
  t.equal(new Date(byName('pbkdf2').date_joined as string).getTime() || Number(byName('pbkdf2').date_joined), Date.parse('2019-03-14T09:26:53Z'))
  t.equal(byName('pbkdf2_600k').last_login, null)

  const groups = await db.query<{ name: string, codename: string }>(
    'SELECT g.name, gp.codename FROM groups g JOIN group_permissions gp ON gp.group_id = g.id ORDER BY g.name, gp.codename')
  t.same(groups, [
    { name: 'editors', codename: 'auth.change_group' },
    { name: 'editors', codename: 'auth.view_group' },
    { name: 'readers', codename: 'auth.view_group' }
  ])
  const members = await db.query<{ username: string, name: string }>(
    'SELECT u.username, g.name FROM user_groups ug JOIN users u ON u.id = ug.user_id JOIN groups g ON g.id = ug.group_id ORDER BY u.username, g.name')
  t.same(members, [{ username: 'pbkdf2', name: 'editors' }, { username: 'staff', name: 'editors' }, { username: 'staff', name: 'readers' }])
  const own = await db.query<{ username: string, codename: string }>(
    'SELECT u.username, up.codename FROM user_permissions up JOIN users u ON u.id = up.user_id')
  t.same(own, [{ username: 'pbkdf2', codename: 'auth.delete_group' }])

  const events = await db.query<{ type: string, actor_type: string, subject_id: string, data: string }>('SELECT type, actor_type, subject_id, data FROM audit_events ORDER BY seq')
  t.same(events.map(e => e.type), users.map(() => 'user.created'), 'a user.created event for each imported user, written with it')
  t.ok(events.every(e => e.actor_type === 'cli'), 'the operator is the actor')
  t.same(events.map(e => e.subject_id).sort(), users.map(u => u.id).sort())
  t.notOk(Object.values(fixture.default.users).some(user => user.hash !== null && JSON.stringify(events).includes(user.hash)), 'no hash in any event')

  const before = await snapshot(db)
  const second = await portcullis(['import-django', '--from', from], db.env)
  t.equal(second.code, 0, second.stderr)
  t.match(second.stdout, 'Users: 0 created, 0 updated, 12 unchanged, 0 refused.')
  t.match(second.stdout, 'Groups: 0 created, 0 updated. Permissions: 0 created.')
  t.same(await snapshot(db), before, 'the second run changed nothing')
  t.equal((await db.query('SELECT seq FROM audit_events')).length, events.length, 'and recorded nothing')

  // Admins see the Django id.
  const app = await build(t, {}, { env: { DATABASE_URL: db.url } })
  const { adminUserView } = await import('../../src/admin/users.js')
  const found = await app.auth.repositories.users.findById(byName('scrypt').id)
  t.equal((await adminUserView(app.auth, found!)).legacy_id, fixture.default.users.scrypt.id)
})

t.test('verified addresses: django-allauth\'s, or every one with --emails-verified; a later run keeps a verification made here', async t => {
  const from = djangoDatabase(t)
  const django = new Database(from)
  // django-allauth's EmailAddress table: pbkdf2's address verified (in another case), bcrypt's not.
  django.exec('CREATE TABLE account_emailaddress (id integer PRIMARY KEY, email varchar(254) NOT NULL, verified bool NOT NULL, "primary" bool NOT NULL, user_id integer NOT NULL)')
  const insert = django.prepare('INSERT INTO account_emailaddress (email, verified, "primary", user_id) VALUES (?, ?, 1, ?)')
  insert.run(fixture.default.users.pbkdf2.email.toUpperCase(), 1, fixture.default.users.pbkdf2.id)
  insert.run(fixture.default.users.bcrypt.email, 0, fixture.default.users.bcrypt.id)
  django.close()

  const db = await tempDatabase(t)
  t.equal((await portcullis(['import-django', '--from', from], db.env)).code, 0)
  const verified = async () => (await db.query<{ username: string, email_verified: unknown }>('SELECT username, email_verified FROM users ORDER BY username'))
    .filter(row => truthy(row.email_verified)).map(row => row.username)
  t.same(await verified(), ['pbkdf2'], 'only the address allauth verified')

  // Verified here since (a verification link): a later run keeps it.
  await rawDatabase(t, db.url).run('UPDATE users SET email_verified = ? WHERE username = ?', ON_POSTGRES ? true : 1, 'scrypt')
  const again = await portcullis(['import-django', '--from', from], db.env)
  t.equal(again.code, 0, again.stderr)
  t.match(again.stdout, 'Users: 0 created, 0 updated, 12 unchanged')
  t.same(await verified(), ['pbkdf2', 'scrypt'])

  const vouched = await tempDatabase(t)
  t.equal((await portcullis(['import-django', '--from', from, '--emails-verified'], vouched.env)).code, 0)
  const all = await vouched.query<{ email_verified: unknown }>('SELECT email_verified FROM users')
  t.ok(all.length === 12 && all.every(row => truthy(row.email_verified)), '--emails-verified: every address')
})

t.test('a custom user table (--user-table accounts_user)', async t => {
  const db = await tempDatabase(t)
  const from = djangoDatabase(t, 'django-custom-user')
  const missing = await portcullis(['import-django', '--from', from], db.env)
  t.equal(missing.code, 1)
  t.match(missing.stderr, 'no table auth_user (use --user-table')
  const result = await portcullis(['import-django', '--from', from, '--user-table', 'accounts_user'], db.env)
  t.equal(result.code, 0, result.stderr)
  t.match(result.stdout, 'Users: 12 created')
  const members = await db.query<{ username: string }>(
    'SELECT u.username FROM user_groups ug JOIN users u ON u.id = ug.user_id ORDER BY u.username')
  t.same(members.map(m => m.username), ['pbkdf2', 'staff', 'staff'])
})

t.test('refused rows are listed and nothing is written; --dry-run and --skip-refused', async t => {
  const db = await tempDatabase(t)
  const from = djangoDatabase(t, 'django-conflicts')
  const before = await snapshot(db)
  const refused = await portcullis(['import-django', '--from', from], db.env)
  t.equal(refused.code, 1)
  t.match(refused.stdout, 'Users: 1 would be created, 0 would be updated, 0 unchanged, 3 refused.')
  t.match(refused.stdout, `id ${fixture.conflicts.users.ada.id} "ada" <ada@example.com>: another Django user has the same email address`)
  t.match(refused.stdout, `id ${fixture.conflicts.users.ada2.id} "ada2" <ADA@example.com>: another Django user has the same email address`)
  t.match(refused.stdout, `id ${fixture.conflicts.users.noemail.id} "noemail" <>: no email address`)
  t.match(refused.stderr, '3 user row(s) refused (listed on stdout); nothing was written.')
  t.same(await snapshot(db), before, 'the database is as it was')

  const dry = await portcullis(['import-django', '--from', from, '--dry-run', '--skip-refused'], db.env)
  t.equal(dry.code, 0, dry.stderr)
  t.match(dry.stdout, 'Dry run: nothing was written.')
  t.same(await snapshot(db), before, 'a dry run writes nothing')

  const skipped = await portcullis(['import-django', '--from', from, '--skip-refused'], db.env)
  t.equal(skipped.code, 0, skipped.stderr)
  t.match(skipped.stdout, 'Users: 1 created, 0 updated, 0 unchanged, 3 refused.')
  t.same((await db.query<{ username: string }>('SELECT username FROM users')).map(u => u.username), ['grace'])
  t.same((await db.query<{ type: string }>('SELECT type FROM audit_events')).map(e => e.type), ['user.created'], 'refused and dry runs recorded no event')
})

t.test('an email or username of an account made here refuses the import, which writes nothing', async t => {
  const db = await tempDatabase(t)
  const app = await build(t, {}, { env: { DATABASE_URL: db.url } })
  await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: 'SCRYPT@example.com', username: 'someone', password: 'a long enough password 1' } })
  const before = await snapshot(db)
  t.equal(before.users.length, 1)
  const result = await portcullis(['import-django', '--from', djangoDatabase(t)], db.env)
  t.equal(result.code, 1)
  t.match(result.stdout, `id ${fixture.default.users.scrypt.id} "scrypt" <scrypt@example.com>: a Portcullis account that was not imported from this user has this email address`)
  t.same(await snapshot(db), before)
})

t.test('bad arguments and sources are clear errors', async t => {
  const db = await tempDatabase(t)
  const noFrom = await portcullis(['import-django'], db.env)
  t.equal(noFrom.code, 1)
  t.match(noFrom.stderr, 'Missing --from')
  const badTable = await portcullis(['import-django', '--from', djangoDatabase(t), '--user-table', 'x; DROP TABLE users'], db.env)
  t.equal(badTable.code, 1)
  t.match(badTable.stderr, '--user-table must be a table name')
  const nowhere = await portcullis(['import-django', '--from', '/nonexistent/django.sqlite3'], db.env)
  t.equal(nowhere.code, 1)
  t.match(nowhere.stderr, 'There is no Django database at /nonexistent/django.sqlite3')
})
