// import-django --from postgres://: a Django database that real Django migrated and filled on PostgreSQL
// (test/django/fixtures/django-postgres.sql, made by make-fixtures.py) arrives as the SQLite one does.
import { readFileSync } from 'node:fs'
import pg from 'pg'
import t from 'tap'
import { portcullis, tempDatabase, type TempDatabase } from '../cli/run.js'
import { emptyDatabase, SERVER_URL } from '../db/postgres/fresh-database.js'
import { djangoDatabase, fixture } from './fixture.js'

const dump = readFileSync(new URL('./fixtures/django-postgres.sql', import.meta.url), 'utf8')
  // psql's meta-commands (\restrict, \unrestrict): the rest is plain SQL a client runs as is.
  .split('\n').filter(line => !line.startsWith('\\')).join('\n')

async function reachable (): Promise<boolean> {
  const client = new pg.Client({ connectionString: SERVER_URL, connectionTimeoutMillis: 2000 })
  client.on('error', () => {})
  try {
    await client.connect()
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

const server = await reachable()

/** The rows an import writes, by names instead of generated ids, so that two imports compare. */
async function imported (db: TempDatabase) {
  const users = await db.query<Record<string, unknown>>(
    'SELECT username, email, legacy_id, is_active, is_staff, is_superuser, last_login, date_joined, password_hash IS NULL AS unusable FROM users ORDER BY username')
  const time = (value: unknown) => value === null ? null : new Date(typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value as string).getTime()
  return {
    users: users.map(u => ({
      username: u.username,
      email: u.email,
      legacy_id: Number(u.legacy_id),
      is_active: Boolean(u.is_active),
      is_staff: Boolean(u.is_staff),
      is_superuser: Boolean(u.is_superuser),
      last_login: time(u.last_login),
      date_joined: time(u.date_joined),
      unusable: Boolean(u.unusable)
    })),
    groupPermissions: await db.query('SELECT g.name, gp.codename FROM groups g JOIN group_permissions gp ON gp.group_id = g.id ORDER BY g.name, gp.codename'),
    members: await db.query('SELECT u.username, g.name FROM user_groups ug JOIN users u ON u.id = ug.user_id JOIN groups g ON g.id = ug.group_id ORDER BY u.username, g.name'),
    own: await db.query('SELECT u.username, up.codename FROM user_permissions up JOIN users u ON u.id = up.user_id ORDER BY u.username, up.codename'),
    permissions: await db.query('SELECT codename FROM permissions ORDER BY codename')
  }
}

t.test('users, hashes, flags, dates, groups and permissions arrive from PostgreSQL exactly as from SQLite; a second run changes nothing',
  { skip: !server && `no PostgreSQL server reachable at ${new URL(SERVER_URL).host}` }, async t => {
    const from = await emptyDatabase(t)
    const loader = new pg.Client({ connectionString: from })
    await loader.connect()
    try {
      await loader.query(dump)
    } finally {
      await loader.end()
    }

    const db = await tempDatabase(t)
    const first = await portcullis(['import-django', '--from', from], db.env)
    t.equal(first.code, 0, first.stderr)
    t.match(first.stdout, 'Users: 12 created, 0 updated, 0 unchanged, 0 refused.')
    t.match(first.stdout, /Groups: 2 created, 0 updated\. Permissions: \d+ created\./)

    const hashes = await db.query<{ username: string, password_hash: string | null }>('SELECT username, password_hash FROM users')
    t.equal(hashes.length, Object.keys(fixture.postgres.users).length)
    for (const [username, expected] of Object.entries(fixture.postgres.users)) {
      const row = hashes.find(u => u.username === username)
      t.equal(row?.password_hash, expected.password === null ? null : expected.hash, `${username}: the hash as Django stored it on PostgreSQL`)
    }

    const fromSqlite = await tempDatabase(t)
    const reference = await portcullis(['import-django', '--from', djangoDatabase(t)], fromSqlite.env)
    t.equal(reference.code, 0, reference.stderr)
    const got = await imported(db)
    t.same(got, await imported(fromSqlite), 'the same users, flags, dates, groups and permissions as from the SQLite fixture')
    t.same(got.members, [{ username: 'pbkdf2', name: 'editors' }, { username: 'staff', name: 'editors' }, { username: 'staff', name: 'readers' }])
    t.equal(got.users.find(u => u.username === 'pbkdf2')?.date_joined, Date.parse('2019-03-14T09:26:53Z'))

    const before = await imported(db)
    const second = await portcullis(['import-django', '--from', from], db.env)
    t.equal(second.code, 0, second.stderr)
    t.match(second.stdout, 'Users: 0 created, 0 updated, 12 unchanged, 0 refused.')
    t.match(second.stdout, 'Groups: 0 created, 0 updated. Permissions: 0 created.')
    t.same(await imported(db), before, 'the second run changed nothing')
  })
