// Opening PostgreSQL: retries while the server is unreachable, then a message that names the server
// and never the password; connections that die later neither crash the process nor stick.
import { once } from 'node:events'
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'
import t from 'tap'
import { sql } from 'drizzle-orm'
import { DatabaseUnavailableError, closePostgres, openPostgres } from '../../../db/postgres/connection.js'
import { build, ON_POSTGRES, rawDatabase, TEST_DATABASE_URL, testDatabaseUrl } from '../../helper.js'
import { waitUntil } from '../../wait-until.js'

const PASSWORD = 'pg-Secret-4f7a'
const needsServer = { skip: !ON_POSTGRES && 'needs TEST_DATABASE_URL (the PostgreSQL pass)' }

/** A port nothing listens on (taken from the system, then freed). */
async function closedPort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

/** Forwards `port` to the PostgreSQL server of TEST_DATABASE_URL: a server that comes up late. */
async function startProxy (t: { teardown (fn: () => unknown): void }, port: number): Promise<Server> {
  const target = new URL(TEST_DATABASE_URL!)
  const sockets = new Set<Socket>()
  const proxy = createServer(incoming => {
    const outgoing = connect(Number(target.port || 5432), target.hostname)
    for (const socket of [incoming, outgoing]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => sockets.delete(socket))
    }
    incoming.pipe(outgoing).pipe(incoming)
  })
  proxy.listen(port, '127.0.0.1')
  await once(proxy, 'listening')
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    proxy.close()
  })
  return proxy
}

function withPassword (databaseUrl: string, port?: number): string {
  const url = new URL(databaseUrl)
  url.username = url.username || 'root'
  url.password = PASSWORD
  if (port !== undefined) url.port = String(port)
  return url.toString()
}

t.test('an unreachable server is retried with backoff, then refused with its host, port and database, never the password', async t => {
  const port = await closedPort()
  const warnings: string[] = []
  const started = Date.now()
  const error = await openPostgres({
    url: `postgres://portcullis:${PASSWORD}@127.0.0.1:${port}/portcullis`,
    poolMax: 2,
    connectTimeoutMs: 1_000,
    warn: message => warnings.push(message)
  }).then(() => undefined, (err: unknown) => err)
  t.type(error, DatabaseUnavailableError)
  const message = (error as Error).message
  t.match(message, `PostgreSQL at 127.0.0.1:${port}/portcullis could not be reached within 1s`)
  t.match(message, /ECONNREFUSED/, 'the cause is given')
  t.ok(warnings.length >= 2, `it retried (${warnings.length} retries announced)`)
  t.match(warnings[0], `PostgreSQL at 127.0.0.1:${port}/portcullis is not reachable yet`)
  t.match(warnings[0], /retrying in 100 ms/)
  t.match(warnings[1], /retrying in 200 ms/, 'the wait doubles')
  t.ok(Date.now() - started >= 500, 'it kept trying for most of the timeout')
  for (const text of [message, (error as Error).stack ?? '', ...warnings]) t.notMatch(text, PASSWORD)
})

t.test('a server that comes up during the retries is used', needsServer, async t => {
  const database = await testDatabaseUrl(t)
  const port = await closedPort()
  let proxy: Promise<Server> | undefined
  const db = await openPostgres({
    url: withPassword(database, port),
    poolMax: 1,
    connectTimeoutMs: 30_000,
    // The first failed attempt brings the server up: the next attempt, 100 ms later, finds it.
    warn: () => { proxy ??= startProxy(t, port) }
  })
  t.teardown(() => closePostgres(db))
  t.ok(proxy, 'the first attempt failed')
  const result = await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM permissions`)
  t.equal(result.rows[0].n, 8, 'migrated, with the built-in permissions')
})

t.test('a refusal that waiting cannot fix fails at once', needsServer, async t => {
  const url = new URL(withPassword(TEST_DATABASE_URL!))
  url.pathname = '/portcullis_no_such_database'
  const warnings: string[] = []
  const error = await openPostgres({ url: url.toString(), poolMax: 1, connectTimeoutMs: 30_000, warn: message => warnings.push(message) })
    .then(() => undefined, (err: unknown) => err)
  t.type(error, DatabaseUnavailableError)
  t.match((error as Error).message, new RegExp(`PostgreSQL at ${url.hostname}:\\d+/portcullis_no_such_database refused the connection: .*does not exist`))
  t.same(warnings, [], 'no retries')
  t.notMatch((error as Error).message, PASSWORD)
})

t.test('an idle connection that dies is dropped and replaced; the process does not crash', needsServer, async t => {
  const database = await testDatabaseUrl(t)
  const warnings: string[] = []
  const db = await openPostgres({ url: withPassword(database), poolMax: 2, connectTimeoutMs: 5_000, warn: message => warnings.push(message) })
  t.teardown(() => closePostgres(db))
  await db.execute(sql`SELECT 1`)
  t.equal(db.$client.idleCount, 1, 'one idle connection in the pool')

  const admin = rawDatabase(t, TEST_DATABASE_URL!)
  const name = new URL(database).pathname.slice(1)
  // As a PostgreSQL restart or a proxy's idle timeout would.
  await admin.run('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?', name)
  await waitUntil(() => warnings.some(w => w.includes('idle PostgreSQL connection')), 10_000, 'the pool noticed', t)
  t.match(warnings.find(w => w.includes('idle PostgreSQL connection')), `An idle PostgreSQL connection to ${new URL(database).host}/${name} failed and was dropped`)
  t.notMatch(warnings.join('\n'), PASSWORD)
  const result = await db.execute<{ ok: number }>(sql`SELECT 1 AS ok`)
  t.same(result.rows, [{ ok: 1 }], 'a new connection serves the next query')
})

t.test('a connection that dies while checked out does not crash the process and is not reused', needsServer, async t => {
  const database = await testDatabaseUrl(t)
  const db = await openPostgres({ url: database, poolMax: 1, connectTimeoutMs: 5_000 })
  t.teardown(() => closePostgres(db))
  const client = await db.$client.connect()
  const { rows: [{ pid }] } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
  // Not events.once: it would listen for 'error' too, which is what must be handled by the pool's owner.
  const ended = new Promise(resolve => client.once('end', resolve))
  await rawDatabase(t, TEST_DATABASE_URL!).run('SELECT pg_terminate_backend(?)', pid)
  // The 'error' event has come and gone by 'end': unhandled, it would have crashed the test process.
  await ended
  await t.rejects(client.query('SELECT 1'))
  client.release()
  const result = await db.execute<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid`)
  t.not(result.rows[0].pid, pid, 'the dead connection left the pool')
})

t.test('the app: /health/ready is 503 while PostgreSQL refuses it, 200 once it is back', needsServer, async t => {
  const database = await testDatabaseUrl(t)
  const app = await build(t, {}, { env: { DATABASE_URL: database } })
  t.equal((await app.inject({ url: '/health/ready' })).statusCode, 200)

  const admin = rawDatabase(t, TEST_DATABASE_URL!)
  const name = new URL(database).pathname.slice(1)
  await admin.run(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`)
  t.teardown(() => admin.run(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`))
  await admin.run('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?', name)

  const down = await app.inject({ url: '/health/ready' })
  t.equal(down.statusCode, 503)
  t.equal(down.json().code, 'not_ready')
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200, 'the process lives on')

  await admin.run(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`)
  // pg_terminate_backend only signals: on a busy machine an idle connection of the pool may still
  // look alive here and fail the next check when its backend exits. Ready again, without a restart,
  // once the pool has dropped what is dead.
  await waitUntil(async () => (await app.inject({ url: '/health/ready' })).statusCode === 200, 10_000, '/health/ready to answer 200 again', t)
  t.pass('it recovers without a restart')
})
