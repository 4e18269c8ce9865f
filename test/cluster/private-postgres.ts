// A PostgreSQL server of the test's own (initdb into a temp dir, its own port), so that a test can
// crash and restart it without disturbing the shared server every other test file uses.
import { execFile, execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

interface Teardown { teardown (fn: () => unknown): void }

/** The PostgreSQL binaries of this machine (Debian's layout), if there are any. */
function binDir (): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const version = readdirSync(root).sort().at(-1)
  return version === undefined ? undefined : join(root, version, 'bin')
}

/** Why a private server cannot run here, or undefined if it can (PostgreSQL refuses to run as root, so root runs it as `postgres`). */
export function privatePostgresUnavailable (): string | undefined {
  if (binDir() === undefined) return 'no PostgreSQL binaries under /usr/lib/postgresql'
  if (process.getuid?.() !== 0) return 'starting a private PostgreSQL server needs root (to run it as the postgres user)'
  return undefined
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

export interface PrivatePostgres {
  url: string
  /** `pg_ctl restart -m immediate`: the server dies as in a crash and recovers from its WAL. */
  crashAndRestart (): Promise<void>
}

export async function startPrivatePostgres (t: Teardown): Promise<PrivatePostgres> {
  const bin = binDir()!
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pg-'))
  const data = join(dir, 'data')
  chownSync(dir, uidOf('postgres'), gidOf('postgres'))
  const asPostgres = (command: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', join(bin, command), ...args], { cwd: dir })
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'root', '-E', 'UTF8', '--no-sync'])
  const port = await freePort()
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`
  const pgCtl = (args: string[]) => asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', ...args])
  await pgCtl(['start'])
  t.teardown(async () => {
    await pgCtl(['stop', '-m', 'immediate']).catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    url: `postgres://root@127.0.0.1:${port}/postgres`,
    async crashAndRestart () {
      await pgCtl(['restart', '-m', 'immediate'])
    }
  }
}

function idOf (flag: '-u' | '-g', user: string): number {
  return Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim())
}
const uidOf = (user: string) => idOf('-u', user)
const gidOf = (user: string) => idOf('-g', user)
