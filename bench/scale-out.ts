// `npm run bench -- --postgres`: the built service on SQLite (one instance) beside PostgreSQL with one
// and with two instances, /me, refresh, login and register, measured in the same run.
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { killChild } from './children.js'
import { generateRsaKeyPair, loginMany, registerUsers, type Session } from './fixtures.js'
import { bcryptHashMs } from './hash-time.js'
import { runSplitLoad, type LoadResult } from './load.js'
import { medianOf, percent } from './report.js'
import { loginLoad, meLoad, refreshLoad, registerLoad } from './scenarios.js'
import { startService, type Server } from './servers.js'
import type { Settings } from './settings.js'

const BENCH_USERS = 4

interface Deployment {
  name: string
  instances: Server[]
  close (): Promise<void>
}

/** A fresh database on the server BENCH_DATABASE_URL names, dropped when the deployment closes. */
async function freshPostgres (serverUrl: string): Promise<{ url: string, drop (): Promise<void> }> {
  const name = `portcullis_bench_${randomUUID().replaceAll('-', '')}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop () {
      const dropper = new pg.Client({ connectionString: serverUrl })
      await dropper.connect()
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await dropper.end()
    }
  }
}

async function deploy (name: string, databaseUrl: string, count: number, common: Omit<Parameters<typeof startService>[0], 'databaseUrl'>, drop = async () => {}): Promise<Deployment> {
  // One after the other: the first migrates and stores the key, the others find both.
  const instances: Server[] = []
  for (let i = 0; i < count; i++) instances.push(await startService({ ...common, databaseUrl }))
  return {
    name,
    instances,
    async close () {
      await Promise.all(instances.map(instance => killChild(instance.child)))
      await drop()
    }
  }
}

interface Measured { me: LoadResult[], refresh: LoadResult[], login: LoadResult[], register: LoadResult[] }

export async function benchScaleOut (settings: Settings, options: { root: string, tempDir: string, progress (line: string): void }): Promise<string> {
  const { progress, root } = options
  const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres'
  const { duration, connections } = settings
  const keys = generateRsaKeyPair()
  const common = { root, privatePem: keys.privatePem, bcryptCost: settings.bcryptCost, hashWorkers: settings.hashWorkers ?? 1 }

  const first = await freshPostgres(serverUrl)
  const second = await freshPostgres(serverUrl)
  const deployments = [
    await deploy('SQLite, 1 instance', `file:${join(options.tempDir, 'scale.db')}`, 1, common),
    await deploy('PostgreSQL, 1 instance', first.url, 1, common, first.drop),
    await deploy('PostgreSQL, 2 instances', second.url, 2, common, second.drop)
  ]
  try {
    const results = new Map<Deployment, Measured>(deployments.map(d => [d, { me: [], refresh: [], login: [], register: [] }]))
    const sessions = new Map<Deployment, { me: Session[], users: Awaited<ReturnType<typeof registerUsers>> }>()
    for (const d of deployments) {
      const users = await registerUsers(d.instances[0].origin, BENCH_USERS)
      sessions.set(d, { users, me: await loginMany(d.instances[0].origin, users, connections) })
    }
    const hashMs = bcryptHashMs(settings.bcryptCost)
    for (let round = 1; round <= settings.rounds; round++) {
      // Alternating order, so that a drift in the machine's speed does not favour one deployment.
      const order = round % 2 === 1 ? deployments : [...deployments].reverse()
      for (const d of order) {
        const { users, me } = sessions.get(d)!
        const origins = d.instances.map(i => i.origin)
        const r = results.get(d)!
        const run = async (label: string, list: LoadResult[], shapes: Parameters<typeof runSplitLoad>[0]) => {
          const result = await runSplitLoad(shapes, connections, duration)
          list.push(result)
          progress(`  round ${round} ${d.name} ${label}: ${result.rps.toFixed(1)} req/s, p99 ${result.p99.toFixed(2)} ms, non-2xx ${result.non2xx}, errors ${result.errors}`)
        }
        await run('GET /me', r.me, origins.map(o => meLoad(`${o}/api/auth/me`, me)))
        const chains = await loginMany(origins[0], users, 2 * connections)
        await run('refresh', r.refresh, origins.map((o, i) => refreshLoad(o, chains.filter((_, j) => j % origins.length === i))))
        await run('login', r.login, origins.map(o => loginLoad(o, users)))
        // Queued hashes drain before the next run.
        await sleep(Math.ceil(connections * hashMs / settings.cores) + 500)
        await run('register', r.register, origins.map((o, i) => registerLoad(o, `r${round}i${i}${Date.now()}`)))
        await sleep(Math.ceil(connections * hashMs / settings.cores) + 500)
      }
    }
    return render(deployments, results, settings)
  } finally {
    for (const d of deployments) await d.close()
  }
}

function render (deployments: Deployment[], results: Map<Deployment, Measured>, settings: Settings): string {
  const reference = results.get(deployments[0])!
  const lines = [`scale-out: ${settings.rounds} rounds × ${settings.duration} s, ${settings.connections} connections, bcrypt cost ${settings.bcryptCost}, ${settings.cores} cores; medians; ratio against ${deployments[0].name} in the same run`, '']
  const header = ['scenario', 'deployment', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'vs SQLite']
  const rows: string[][] = []
  for (const scenario of ['me', 'refresh', 'login', 'register'] as const) {
    const referenceRps = medianOf(reference[scenario]).rps
    for (const d of deployments) {
      const m = medianOf(results.get(d)![scenario])
      rows.push([scenario, d.name, m.rps.toFixed(1), m.p50.toFixed(2), m.p99.toFixed(2), String(m.non2xx), String(m.errors), percent(m.rps / referenceRps)])
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  lines.push(line(header), widths.map(w => '-'.repeat(w)).join('  '), ...rows.map(line))
  return lines.join('\n')
}
