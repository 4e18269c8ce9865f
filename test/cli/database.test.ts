// Every command but migrate acts only on a database that exists (never creating one where no server
// reads), says which one it used, and exits 66 with the path when there is none.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { emptyPostgresDatabase } from '../databases.js'
import { ON_POSTGRES, sqliteOnly } from '../helper.js'
import { PASSWORD, portcullis, tempDatabase } from './run.js'

const COMMANDS = [
  ['create-superuser', '--no-input', '--email', 'root@example.com', '--username', 'root'],
  ['create-user', '--email', 'ada@example.com', '--username', 'ada', '--no-input'],
  ['set-password', 'ada', '--no-input'],
  ['grant', 'ada', 'users.view'],
  ['ban', 'ada'],
  ['list-users'],
  ['list-clients'],
  ['prune-tokens'],
  ['keys', 'list'],
  ['keys', 'rotate']
]

t.test('SQLite: a missing database file is refused (exit 66, its path named) and not created; migrate creates it', sqliteOnly('its file'), async t => {
  // As from another directory: a relative path that names no database.
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-nodb-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'data', 'portcullis.db')
  const env = { DATABASE_URL: `file:${path}`, BCRYPT_COST: '4', PORTCULLIS_PASSWORD: PASSWORD }
  const results = await Promise.all(COMMANDS.map(args => portcullis(args, env)))
  results.forEach((res, i) => {
    const name = COMMANDS[i].join(' ')
    t.equal(res.code, 66, name)
    t.match(res.stderr, `SQLite database ${path} does not exist. Set DATABASE_URL to the server's database`, name)
    t.match(res.stderr, /or create it with "portcullis migrate"/, name)
    t.equal(res.stdout, '', name)
  })
  t.notOk(existsSync(path), 'no database was created')
  t.notOk(existsSync(join(dir, 'data')), 'nor its directory')

  const migrated = await portcullis(['migrate'], env)
  t.equal(migrated.code, 0, migrated.stderr)
  t.ok(existsSync(path))
  const listed = await portcullis(['list-users'], env)
  t.equal(listed.code, 0, listed.stderr)
})

t.test('PostgreSQL: a database never migrated is refused (exit 66) and left empty', { skip: !ON_POSTGRES && 'PostgreSQL only: an empty database' }, async t => {
  const url = await emptyPostgresDatabase(t)
  const res = await portcullis(['list-users'], { DATABASE_URL: url })
  t.equal(res.code, 66, res.stderr)
  t.match(res.stderr, /PostgreSQL database \S+ has no Portcullis tables \(never migrated\)/)
  const migrated = await portcullis(['migrate'], { DATABASE_URL: url })
  t.equal(migrated.code, 0, migrated.stderr)
  t.equal((await portcullis(['list-users'], { DATABASE_URL: url })).code, 0)
})

t.test('each command names the database it used on stderr', async t => {
  const db = await tempDatabase(t)
  const listed = await portcullis(['list-users', '--json'], db.env)
  t.equal(listed.code, 0, listed.stderr)
  t.same(JSON.parse(listed.stdout), [], 'stdout stays machine-readable')
  const where = ON_POSTGRES ? new URL(db.url).pathname.slice(1) : db.url.slice('file:'.length)
  t.match(listed.stderr, `Database: ${ON_POSTGRES ? '' : where}`)
  t.match(listed.stderr, where)
})
