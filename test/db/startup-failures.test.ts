// The server and the CLI refusing to start on a bad or unreachable database: the exit code, a
// message naming the variable or the server, and the password nowhere in the output.
import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import t from 'tap'
import { portcullis } from '../cli/run.js'
import { failedStart } from '../portcullis-process.js'

const PASSWORD = 'pg-Secret-9c21'

async function closedPort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

t.test('an unknown DATABASE_URL scheme: the server exits 78 naming the variable, not the password', async t => {
  const { code, output } = await failedStart(t, { DATABASE_URL: `mysql://admin:${PASSWORD}@db.internal/portcullis` })
  t.equal(code, 78)
  t.match(output, /Invalid configuration: DATABASE_URL must be postgres:\/\/…, postgresql:\/\/… \(PostgreSQL\), file:<path> or :memory: \(SQLite\)/)
  t.notMatch(output, PASSWORD)
})

t.test('PostgreSQL unreachable: the server retries for DATABASE_CONNECT_TIMEOUT, then exits 1 naming host, port and database, never the password', async t => {
  const port = await closedPort()
  const { code, output } = await failedStart(t, {
    DATABASE_URL: `postgres://portcullis:${PASSWORD}@127.0.0.1:${port}/portcullis`,
    DATABASE_CONNECT_TIMEOUT: '1s'
  })
  t.equal(code, 1)
  t.match(output, `Portcullis failed to start: PostgreSQL at 127.0.0.1:${port}/portcullis could not be reached within 1s`)
  t.match(output, /"level":40.*is not reachable yet.*retrying in 100 ms/, 'each retry is logged as a warning')
  t.notMatch(output, /\n\s+at /, 'no stack trace: the message says it all')
  t.notMatch(output, PASSWORD)
})

t.test('the CLI: exit 78 for an unknown scheme, exit 1 naming the unreachable server; never the password', async t => {
  const port = await closedPort()
  const [unknown, unreachable] = await Promise.all([
    portcullis(['migrate'], { DATABASE_URL: `mysql://admin:${PASSWORD}@db.internal/portcullis` }),
    portcullis(['list-users'], { DATABASE_URL: `postgresql://portcullis:${PASSWORD}@127.0.0.1:${port}/portcullis`, DATABASE_CONNECT_TIMEOUT: '1s' })
  ])
  t.equal(unknown.code, 78)
  t.match(unknown.stderr, /portcullis migrate: Invalid configuration: DATABASE_URL must be/)
  t.equal(unreachable.code, 1)
  t.match(unreachable.stderr, `portcullis list-users: PostgreSQL at 127.0.0.1:${port}/portcullis could not be reached within 1s`)
  for (const output of [unknown.stdout, unknown.stderr, unreachable.stdout, unreachable.stderr]) t.notMatch(output, PASSWORD)
})
