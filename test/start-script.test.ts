// `npm start` as a process manager runs it: the pid it gets is npm's, and SIGTERM or SIGINT sent
// there must reach the server (npm forwards them to the script, whose shell `exec`s node), which
// drains and exits 0, releasing its port, instead of being orphaned on it.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { ON_POSTGRES } from './helper.js'
import { tempDir } from './portcullis-process.js'
import { waitUntil } from './wait-until.js'
import { NO_CHILD_COVERAGE } from './source-loader.js'

const root = new URL('../', import.meta.url).pathname

/** Whether something still accepts connections on the port (a listen there fails with EADDRINUSE). */
async function portTaken (port: number): Promise<boolean> {
  const probe = createServer()
  probe.listen(port, '127.0.0.1')
  try {
    await once(probe, 'listening')
  } catch {
    return true
  }
  probe.close()
  await once(probe, 'close')
  return false
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`${signal} to the pid of \`npm start\`: the server drains, exits 0 and releases its port`, { skip: ON_POSTGRES && 'the start script, not the database, is under test (run on the SQLite pass)' }, async t => {
    const dir = tempDir(t)
    const npm = spawn('npm', ['start'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...NO_CHILD_COVERAGE,
        PORT: '0',
        DATABASE_URL: `file:${join(dir, 'data', 'portcullis.db')}`,
        HASH_WORKERS: '1',
        LOG_LEVEL: 'info'
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const exited = once(npm, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
    t.teardown(() => { if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL') })
    let output = ''
    npm.stdout.on('data', chunk => { output += chunk })
    npm.stderr.on('data', chunk => { output += chunk })

    // The build comes first (incremental; a fresh checkout compiles everything), so the wait is long.
    let url: string | undefined
    await waitUntil(() => {
      if (npm.exitCode !== null || npm.signalCode !== null) throw new Error(`npm start exited:\n${output}`)
      url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1]
      return url !== undefined
    }, 600_000, 'npm start listening', t).catch(err => { throw new Error(`${(err as Error).message}; its output:\n${output}`) })
    const live = await fetch(`${url!}/health/live`)
    t.equal(live.status, 200, 'the server answers')
    const port = Number(new URL(url!).port)

    npm.kill(signal)
    const [code] = await exited
    t.equal(code, 0, 'npm start exits 0: node drained and exited 0')
    t.match(output, /shutting down/, 'the server itself received the signal')
    t.notOk(await portTaken(port), 'the port is free: no server was left behind')
  })
}
