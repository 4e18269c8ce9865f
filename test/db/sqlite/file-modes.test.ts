// The SQLite files hold password hashes and signing keys: owner-only (0600), whatever the mode of
// the directory they are in and the process umask, for new databases and existing ones alike.
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { build, registerUser, sqliteOnly } from '../../helper.js'

function sharedDirectory (t: { teardown (fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-modes-'))
  chmodSync(dir, 0o755)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8)
const files = (path: string) => [path, `${path}-wal`, `${path}-shm`]

t.test('a new database in an existing 0755 directory: the .db, -wal and -shm files are 0600', sqliteOnly('its files'), async t => {
  const dir = sharedDirectory(t)
  const path = join(dir, 'portcullis.db')
  const app = await build(t, {}, { env: { DATABASE_URL: `file:${path}` } })
  await registerUser(app)
  for (const file of files(path)) {
    t.ok(existsSync(file), `${file} exists`)
    t.equal(modeOf(file), '600', file)
  }
  t.equal(modeOf(dir), '755', 'the directory is the operator\'s: left as it was')
})

t.test('an existing database whose files are 0644 is made owner-only on open', sqliteOnly('its files'), async t => {
  const dir = sharedDirectory(t)
  const path = join(dir, 'portcullis.db')
  const previous = process.umask(0o022)
  try {
    const other = new Database(path)
    other.pragma('journal_mode = WAL')
    other.exec('CREATE TABLE IF NOT EXISTS scratch (x)')
    other.close()
  } finally {
    process.umask(previous)
  }
  chmodSync(path, 0o644)
  t.equal(modeOf(path), '644')
  const app = await build(t, {}, { env: { DATABASE_URL: `file:${path}` } })
  await registerUser(app)
  for (const file of files(path)) t.equal(modeOf(file), '600', file)
})
