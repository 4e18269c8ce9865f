// The operator CLI as a child process against a temp database.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import Database from 'better-sqlite3'

const run = promisify(execFile)
const cli = new URL('../src/cli.ts', import.meta.url).pathname

async function portcullis (args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', cli, ...args], { env: { PATH: process.env.PATH, ...env } })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const failed = err as { code: number, stdout: string, stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

t.test('migrate creates the schema in DATABASE_URL and is idempotent', async t => {
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
