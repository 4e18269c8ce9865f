// Another process holding SQLite's write lock (the CLI, a backup): the server keeps answering while
// a write waits for it, a write that waits too long is a 503 with Retry-After, and nothing is lost.
import { spawn, type ChildProcess } from 'node:child_process'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import t, { type Test } from 'tap'
import { busyChannel } from '../../../db/sqlite/busy.js'
import { build, loginUser, newUser, rawDatabase, registerUser, sqliteOnly, testDatabaseUrl } from '../../helper.js'

const root = new URL('../../../', import.meta.url).pathname

interface LockHolder {
  release (): Promise<void>
}

/** A second process that takes the write lock (BEGIN IMMEDIATE) and holds it until released. */
async function holdWriteLock (t: Test, databaseUrl: string): Promise<LockHolder> {
  const script = `
    const db = new (require('better-sqlite3'))(process.env.LOCK_DB)
    db.exec('BEGIN IMMEDIATE')
    console.log('locked')
    process.stdin.once('data', () => { db.exec('COMMIT'); db.close(); console.log('released'); process.exit(0) })
  `
  const child: ChildProcess = spawn(process.execPath, ['-e', script], { cwd: root, env: { PATH: process.env.PATH, LOCK_DB: databaseUrl.slice('file:'.length) }, stdio: ['pipe', 'pipe', 'inherit'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  t.equal((await lines.next()).value, 'locked')
  return {
    async release () {
      const exited = once(child, 'exit')
      child.stdin!.write('release\n')
      t.equal((await lines.next()).value, 'released')
      await exited
    }
  }
}

/** Resolves at the first retry of a call that found the database locked. */
function nextBusyWait (t: Test): Promise<void> {
  return new Promise(resolve => {
    const onBusy = () => { unsubscribe(busyChannel.name, onBusy); resolve() }
    subscribe(busyChannel.name, onBusy)
    t.teardown(() => unsubscribe(busyChannel.name, onBusy))
  })
}

t.test('while another process holds the write lock, a write waits without blocking the event loop, then succeeds', sqliteOnly('its write lock'), async t => {
  const url = await testDatabaseUrl(t)
  const app = await build(t, {}, { env: { DATABASE_URL: url, DATABASE_BUSY_TIMEOUT: '10m' } })
  const user = await loginUser(app)

  const lock = await holdWriteLock(t, url)
  const waiting = nextBusyWait(t)
  let settled = false
  const refresh = app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: user.refresh } })
    .finally(() => { settled = true })
  await waiting

  // The refresh is waiting for the lock: the process still answers, the database still reads.
  const live = await app.inject({ url: '/health/live' })
  t.equal(live.statusCode, 200)
  const ready = await app.inject({ url: '/health/ready' })
  t.equal(ready.statusCode, 200, 'reads go on under another writer (WAL)')
  t.equal(settled, false, 'the refresh is still waiting: /health answered meanwhile')

  await lock.release()
  const res = await refresh
  t.equal(res.statusCode, 200, res.body)
  const again = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: res.json().refresh } })
  t.equal(again.statusCode, 200, 'the rotated token was stored')
})

t.test('a lock held past DATABASE_BUSY_TIMEOUT: 503 service_unavailable with Retry-After; after release the write succeeds and nothing is lost', sqliteOnly('its write lock'), async t => {
  const url = await testDatabaseUrl(t)
  const app = await build(t, {}, { env: { DATABASE_URL: url, DATABASE_BUSY_TIMEOUT: '1s' } })
  const before = await registerUser(app)
  const lock = await holdWriteLock(t, url)

  const body = newUser()
  const refused = await app.inject({ method: 'POST', url: '/api/auth/register', payload: body })
  t.equal(refused.statusCode, 503, refused.body)
  t.equal(refused.headers['retry-after'], '1')
  t.match(refused.json(), { code: 'service_unavailable' })
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200)

  await lock.release()
  const created = await app.inject({ method: 'POST', url: '/api/auth/register', payload: body })
  t.equal(created.statusCode, 201, created.body)

  const rows = await rawDatabase(t, url).query<{ email: string }>('SELECT email FROM users ORDER BY email')
  t.same(rows.map(row => row.email).sort(), [before.email, body.email].sort(), 'both accounts, once each')
  for (const account of [before, body]) {
    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: account.email, password: account.password } })
    t.equal(login.statusCode, 200)
  }
})
