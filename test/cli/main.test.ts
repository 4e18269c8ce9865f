// The operator CLI against a temp database: dispatch, help, exit codes, migrate; and the process itself.
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import Database from 'better-sqlite3'
import { sqliteOnly, testDatabaseUrl } from '../helper.js'
import { cli, portcullis, portcullisProcess } from './run.js'

const COMMANDS = [
  'migrate', 'create-superuser', 'create-user', 'set-password', 'grant', 'revoke', 'add-to-group',
  'remove-from-group', 'ban', 'unban', 'list-users', 'prune-tokens'
]

t.test('migrate creates the schema in DATABASE_URL and is idempotent', sqliteOnly('creates the SQLite file and its directory (test/db/postgres/migrations.test.ts migrates PostgreSQL)'), async t => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'nested', 'p.db')
  const first = await portcullis(['migrate'], { DATABASE_URL: `file:${file}` })
  t.equal(first.code, 0, first.stderr)
  t.match(first.stdout, /up to date/)
  const again = await portcullis(['migrate'], { DATABASE_URL: `file:${file}` })
  t.equal(again.code, 0)
  const db = new Database(file, { readonly: true })
  t.teardown(() => db.close())
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map(row => (row as { name: string }).name)
  for (const table of ['users', 'sessions', 'refresh_tokens', 'signing_keys', 'one_time_tokens']) t.ok(tables.includes(table), table)
})

t.test('help, unknown commands and bad configuration', async t => {
  const help = await portcullis(['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /migrate/)
  const migrateHelp = await portcullis(['migrate', '--help'])
  t.equal(migrateHelp.code, 0)
  t.match(migrateHelp.stdout, /Usage: portcullis migrate/)
  const none = await portcullis([])
  t.equal(none.code, 2)
  const unknown = await portcullis(['frobnicate'])
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /Unknown command "frobnicate"/)
  const badFlag = await portcullis(['migrate', '--force'])
  t.equal(badFlag.code, 1)
  t.match(badFlag.stderr, /force/)
  const badConfig = await portcullis(['migrate'], { DATABASE_URL: 'mysql://nope' })
  t.equal(badConfig.code, 78)
  t.match(badConfig.stderr, /DATABASE_URL/)
})

t.test('every command has its own --help, and the top-level help lists them all', async t => {
  // A bad configuration proves that help never reads it.
  const env = { DATABASE_URL: 'mysql://nope' }
  const top = await portcullis(['--help'], env)
  t.equal(top.code, 0)
  for (const name of COMMANDS) t.match(top.stdout, new RegExp(`^  ${name} `, 'm'), `${name} is listed`)
  const helps = await Promise.all(COMMANDS.map(name => portcullis([name, '--help'], env)))
  COMMANDS.forEach((name, i) => {
    t.equal(helps[i].code, 0, `${name} --help`)
    t.match(helps[i].stdout, new RegExp(`^Usage: portcullis ${name}`), `${name} --help shows its usage`)
    t.match(helps[i].stdout, /Exit status:/, `${name} --help documents its exit status`)
    t.equal(helps[i].stderr, '')
  })
  const [short, viaHelp, amid, helpUnknown] = await Promise.all([
    portcullis(['ban', '-h'], env),
    portcullis(['help', 'grant'], env),
    portcullis(['grant', 'ada', '--help'], env),
    portcullis(['help', 'frobnicate'], env)
  ])
  t.match(short.stdout, /^Usage: portcullis ban <user> \[--reason <text>\] \[--until <date>\]/)
  t.match(viaHelp.stdout, /^Usage: portcullis grant <user> <permission>/)
  t.match(amid.stdout, /^Usage: portcullis grant/)
  t.equal(helpUnknown.code, 2)
  t.match(helpUnknown.stderr, /Unknown command "frobnicate"/)
})

t.test('as a process: the exit status and the streams the shell sees, and an exit once the command is done', async t => {
  const [help, unknown] = await Promise.all([portcullisProcess(['--help']), portcullisProcess(['frobnicate'])])
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: portcullis <command>/)
  t.equal(help.stderr, '')
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /Unknown command "frobnicate"/)
  t.equal(unknown.stdout, '')
  // A command that opened the database and the hashing thread: the process still ends by itself.
  const env = { DATABASE_URL: await testDatabaseUrl(t), BCRYPT_COST: '4' }
  t.equal((await portcullisProcess(['migrate'], env)).code, 0)
  const created = await portcullisProcess(['create-user', '--email', 'ada@example.com', '--username', 'ada', '--no-input'], { ...env, PORTCULLIS_PASSWORD: 'correct horse battery' })
  t.equal(created.code, 0, created.stderr)
  t.match(created.stderr, /^Database: /m)
})

t.test('the entry point starts with the shebang that tsc keeps in dist/src/cli/main.js, the package bin', async t => {
  t.match(readFileSync(cli, 'utf8'), /^#!\/usr\/bin\/env node\n/)
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  t.same(pkg.bin, { portcullis: 'dist/src/cli/main.js' })
  t.match(pkg.scripts.cli, /node dist\/src\/cli\/main\.js$/)
})

t.test('the CLI reads the configuration as the server does, JWT_PRIVATE_KEY_FILE included', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const keyFile = join(dir, 'key.pem')
  // The configuration parses the key (and checks it fits JWT_ALGORITHM) for the CLI as for the server.
  writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }))
  const env = { DATABASE_URL: await testDatabaseUrl(t) }
  const [withKeyFile, missingKeyFile] = await Promise.all([
    portcullis(['migrate'], { ...env, JWT_PRIVATE_KEY_FILE: keyFile }),
    portcullis(['list-users'], { ...env, JWT_PRIVATE_KEY_FILE: join(dir, 'missing.pem') })
  ])
  t.equal(withKeyFile.code, 0, withKeyFile.stderr)
  t.equal(missingKeyFile.code, 78)
  t.match(missingKeyFile.stderr, /JWT_PRIVATE_KEY_FILE cannot be read/)
})
