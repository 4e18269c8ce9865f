// Redis for the tests: TEST_REDIS_URL (shared by every test process: each app counts under a key
// prefix of its own), a port nothing listens on, or a redis-server of the test's own that it stops
// and starts again to play an outage.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { freePort } from '../free-port.js'

interface Teardown { teardown (fn: () => unknown): void }

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL?.trim() || undefined
/** `{ skip }` for a t.test that needs the shared Redis. */
export const NEEDS_REDIS = { skip: TEST_REDIS_URL === undefined && 'TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379): this test needs a Redis' }

const HAS_REDIS_SERVER = spawnSync('redis-server', ['--version']).status === 0
/** `{ skip }` for a t.test that starts and stops a redis-server of its own. */
export const NEEDS_REDIS_SERVER = { skip: !HAS_REDIS_SERVER && 'redis-server is not installed: this test stops and restarts a Redis of its own' }

/** A key prefix no other app or test process uses, so that parallel tests on one Redis never collide. */
export function uniqueKeyPrefix (): string {
  return `portcullis-test-${process.pid}-${randomBytes(6).toString('hex')}:`
}

/** A Redis URL on which nothing answers, with a password that must never show anywhere. */
export async function deadRedisUrl (): Promise<string> {
  return `redis://portcullis:dead-redis-password@127.0.0.1:${await freePort()}`
}

export interface OwnRedis {
  url: string
  /** Ends the server at once (SIGKILL: an outage, not a clean shutdown). */
  stop (): Promise<void>
  /** Starts it again on the same port, empty. */
  start (): Promise<void>
}

/** A redis-server on a free port, without persistence, stopped when the test ends. */
export async function ownRedis (t: Teardown): Promise<OwnRedis> {
  const port = await freePort()
  let child: ChildProcess | undefined

  async function start (): Promise<void> {
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = server
    let output = ''
    await new Promise<void>((resolve, reject) => {
      server.stdout!.on('data', chunk => {
        output += chunk
        if (output.includes('Ready to accept connections')) resolve()
      })
      server.once('exit', code => reject(new Error(`redis-server on port ${port} exited (${code}):\n${output}`)))
    })
  }

  async function stop (): Promise<void> {
    const server = child
    child = undefined
    if (server === undefined || server.exitCode !== null || server.signalCode !== null) return
    server.kill('SIGKILL')
    await once(server, 'exit')
  }

  await start()
  t.teardown(stop)
  return { url: `redis://127.0.0.1:${port}`, stop, start }
}
