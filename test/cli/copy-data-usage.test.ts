// `copy-data` as a child process: what it refuses (with exit 1 and no password in any message), and its help.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { sql } from 'drizzle-orm'
import { openDatabase } from '../../db/sqlite/index.js'
import { freshDatabase } from '../db/postgres/fresh-database.js'
import { BUILTIN_PERMISSIONS } from '../admin-helper.js'
import { portcullis } from './run.js'

interface Teardown { teardown (fn: () => unknown): void }

/** A SQLite file that does not exist yet, in a directory removed when the test ends. */
function sqliteFile (t: Teardown): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-copy-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return `file:${join(dir, 'portcullis.db')}`
}

t.test('copy-data refuses what it cannot copy from or to, and names no password', async t => {
  const sqliteUrl = sqliteFile(t)
  const cliEnv = { DATABASE_URL: sqliteUrl, BCRYPT_COST: '4' }
  for (const [args, env, message] of [
    [['copy-data'], cliEnv, /Missing --to <postgres url>\.\nRun "portcullis copy-data --help" for usage\./],
    [['copy-data', '--to', 'file:/tmp/elsewhere.db'], cliEnv, /--to must be a PostgreSQL URL/],
    [['copy-data', '--to', 'mysql://root@127.0.0.1/db'], cliEnv, /--to must be a PostgreSQL URL/],
    [['copy-data', '--to', 'postgres://127.0.0.1/x', '--batch-size', '0'], cliEnv, /--batch-size must be a whole number from 1 to 10000; got "0"/],
    [['copy-data', '--to', 'postgres://127.0.0.1/x'], { ...cliEnv, DATABASE_URL: 'postgres://root@127.0.0.1:5432/postgres' }, /copy-data copies from SQLite: DATABASE_URL must name the SQLite file/],
    [['copy-data', '--to', 'postgres://127.0.0.1/x'], { ...cliEnv, DATABASE_URL: ':memory:' }, /DATABASE_URL is :memory:, which holds nothing to copy/],
    [['copy-data', '--to', 'postgres://127.0.0.1/x'], cliEnv, /There is no SQLite database at .*portcullis\.db \(DATABASE_URL\)\./]
  ] as const) {
    const res = await portcullis([...args], env)
    // 66: the database does not exist, as for every command but migrate.
    t.equal(res.code, /There is no SQLite/.test(message.source) ? 66 : 1, args.join(' '))
    t.match(res.stderr, message)
    t.equal(res.stdout, '')
  }

  // A SQLite database to copy, and a server that is not there.
  openDatabase(sqliteUrl).$client.close()
  const unreachable = await portcullis(['copy-data', '--to', 'postgres://ada:hunter2@127.0.0.1:1/portcullis'], { ...cliEnv, DATABASE_CONNECT_TIMEOUT: '1s' })
  t.equal(unreachable.code, 1)
  t.match(unreachable.stderr, /127\.0\.0\.1:1\/portcullis/)
  t.notMatch(unreachable.stderr, /hunter2/)
})

t.test('a count that differs: the summary marks the table, exit 1, nothing written', async t => {
  const sqliteUrl = sqliteFile(t)
  openDatabase(sqliteUrl).$client.close()
  const target = await freshDatabase(t)
  // One seeded permission gone, and a trigger that keeps the copy from bringing it back.
  await target.execute(sql.raw(`
    DELETE FROM permissions WHERE codename = 'audit.view';
    CREATE FUNCTION skip_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.codename = 'audit.view' THEN RETURN NULL; END IF; RETURN NEW; END $$;
    CREATE TRIGGER skip_audit BEFORE INSERT ON permissions FOR EACH ROW EXECUTE FUNCTION skip_audit();`))
  const res = await portcullis(['copy-data', '--to', String(target.$client.options.connectionString)], { DATABASE_URL: sqliteUrl, BCRYPT_COST: '4' })
  t.equal(res.code, 1)
  const builtins = BUILTIN_PERMISSIONS.length
  t.match(res.stdout, new RegExp(`\\n {2}permissions +${builtins} rows {2}DIFFERS: ${builtins - 1} in PostgreSQL\\n`))
  t.match(res.stdout, /^ {2}users +0 rows\n/)
  t.match(res.stderr, /^portcullis copy-data: Row counts differ after the copy \(permissions\): it was rolled back, nothing was written to \S+\.\n$/)
  const { rows } = await target.execute<{ n: string }>(sql`SELECT count(*) AS n FROM permissions`)
  t.equal(Number(rows[0].n), builtins - 1, 'rolled back')
})

t.test('copy-data --help, and its line in portcullis --help', async t => {
  const help = await portcullis(['copy-data', '--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: portcullis copy-data --to <postgres url> \[--batch-size <n>\]/)
  t.match(help.stdout, /stop the servers first/)
  t.match(help.stdout, /Exit status: 0 when every table was copied/)
  t.match((await portcullis(['--help'])).stdout, /\n {2}copy-data +Copy everything from the SQLite database into an empty PostgreSQL database\.\n/)
})
