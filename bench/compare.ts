// `node --import tsx bench/compare.ts <before-root>`: two builds of the service side by side in one
// run — another checkout's build (`before`, e.g. the commit before a change, built with `npm run
// build` there) and this one's — alternating rounds, medians, for a before/after comparison under
// the same machine load. BENCH_COMPARE=refresh (refresh, and /me during a refresh flood; the
// default) or BENCH_COMPARE=login (login at c=8 and c=32, with BCRYPT_COST, default 10).
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { cpuTimeMs, killAllChildren } from './children.js'
import { generateRsaKeyPair, loginMany, registerUsers } from './fixtures.js'
import { bcryptHashMs } from './hash-time.js'
import { runLoad, type LoadResult } from './load.js'
import { loginLoad, meBesideRefreshFlood, meLoad, refreshLoad, type BesideRefreshFlood } from './scenarios.js'
import { startService, type Server } from './servers.js'
import { median } from './stats.js'

const before = process.argv[2]
if (before === undefined) throw new Error('usage: bench/refresh-compare.ts <root of the other build>')
const roots = { before: resolve(before), after: resolve(import.meta.dirname, '..') }
const duration = Number(process.env.BENCH_DURATION ?? 10)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)
const scenario = process.env.BENCH_COMPARE ?? 'refresh'
const bcryptCost = Number(process.env.BCRYPT_COST ?? 10)
const pacedRate = Number(process.env.BENCH_PACED_RATE ?? 500)
const progress = (message: string) => process.stderr.write(`${message}\n`)
const tempDir = mkdtempSync(join(tmpdir(), 'portcullis-refresh-compare-'))

const users = Array.from({ length: 4 }, (_, i) => ({ email: `bench-${i}@example.com`, username: `bench_${i}` }))

async function refreshRun (server: Server): Promise<LoadResult> {
  const chain = refreshLoad(server.origin, await loginMany(server.origin, users, 2 * connections))
  const cpuBefore = cpuTimeMs(server.child.pid)
  const result = await runLoad({ ...chain, connections, duration })
  const cpuAfter = cpuTimeMs(server.child.pid)
  if (cpuBefore !== undefined && cpuAfter !== undefined && result.ok > 0) result.cpuMsPerOk = (cpuAfter - cpuBefore) / result.ok
  return result
}

/** /me beside a refresh flood of `connections`, on fresh sessions and chains: saturating, then paced. */
async function meDuringRefreshFlood (server: Server): Promise<BesideRefreshFlood> {
  const refresh = refreshLoad(server.origin, await loginMany(server.origin, users, 2 * connections))
  const me = meLoad(`${server.origin}/api/auth/me`, await loginMany(server.origin, users, connections))
  return meBesideRefreshFlood({ me, refresh, connections, floodConnections: connections, pacedRate, duration })
}

async function main (): Promise<void> {
  const keys = generateRsaKeyPair()
  const servers: Record<string, Server> = {}
  for (const [name, root] of Object.entries(roots)) {
    servers[name] = await startService({ root, databaseUrl: `file:${join(tempDir, `${name}.db`)}`, privatePem: keys.privatePem, bcryptCost: scenario === 'login' ? bcryptCost : 4 })
    await registerUsers(servers[name].origin, 4)
  }
  if (scenario === 'login') return compareLogins(servers)
  progress(`refresh c=${connections}, ${rounds} rounds × ${duration} s, load average ${loadavg()[0].toFixed(2)}`)
  const results: Record<string, LoadResult[]> = { before: [], after: [] }
  const floods: Record<string, BesideRefreshFlood[]> = { before: [], after: [] }
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? ['before', 'after'] : ['after', 'before']
    for (const name of order) {
      const r = await refreshRun(servers[name])
      results[name].push(r)
      progress(`  ${name} refresh: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, non-2xx ${r.non2xx}, server CPU ${r.cpuMsPerOk?.toFixed(2)} ms/req`)
    }
    for (const name of order) {
      const r = await meDuringRefreshFlood(servers[name])
      floods[name].push(r)
      progress(`  ${name} /me during refresh flood: ${r.saturating.rps.toFixed(0)} req/s, p99 ${r.saturating.p99.toFixed(2)} ms; paced at ${pacedRate} req/s: p50 ${r.paced.p50.toFixed(2)} ms, p99 ${r.paced.p99.toFixed(2)} ms; flood ${r.flood.rps.toFixed(0)} req/s, p99 ${r.flood.p99.toFixed(1)} ms`)
    }
  }
  const row = (name: string) => {
    const m = (pick: (r: LoadResult) => number, list: LoadResult[]) => median(list.map(pick))
    return `| ${name} | ${m(r => r.rps, results[name]).toFixed(0)} | ${m(r => r.cpuMsPerOk ?? NaN, results[name]).toFixed(2)} | ${m(r => r.p50, results[name]).toFixed(1)} | ${m(r => r.p99, results[name]).toFixed(1)} | ${m(r => r.p99, floods[name].map(f => f.saturating)).toFixed(2)} | ${m(r => r.p99, floods[name].map(f => f.paced)).toFixed(2)} | ${m(r => r.rps, floods[name].map(f => f.flood)).toFixed(0)} |`
  }
  process.stdout.write([`| build | refresh req/s | server CPU ms/req | p50 ms | p99 ms | /me p99 during refresh flood (c=${connections}), ms | /me p99 paced at ${pacedRate} req/s during the flood, ms | flood req/s |`, '|---|---|---|---|---|---|---|---|', row('before'), row('after'), `load average at end ${loadavg()[0].toFixed(2)}`].join('\n') + '\n')
}

/** Login at c=8 and c=32 on both builds: rate, p50, p99, max (starvation shows as p99 and max far above p50). */
async function compareLogins (servers: Record<string, Server>): Promise<void> {
  const lines = ['| build | c | login req/s | p50 ms | p99 ms | max ms | p99 / p50 |', '|---|---|---|---|---|---|---|']
  const results: Record<string, LoadResult[]> = {}
  const hashMs = bcryptHashMs(bcryptCost)
  for (let round = 1; round <= rounds; round++) {
    for (const c of [8, 32]) {
      for (const name of round % 2 === 1 ? ['before', 'after'] : ['after', 'before']) {
        const r = await runLoad({ ...loginLoad(servers[name].origin, users), connections: c, duration })
        ;(results[`${name} ${c}`] ??= []).push(r)
        progress(`  ${name} login c=${c}: ${r.rps.toFixed(1)} req/s, p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, max ${r.max.toFixed(0)} ms, non-2xx ${r.non2xx}`)
        // The logins still queued in the pool drain before the next run.
        await new Promise(resolve => setTimeout(resolve, Math.ceil(c * hashMs / availableParallelism()) + 500))
      }
    }
  }
  for (const [key, list] of Object.entries(results).sort()) {
    const [name, c] = key.split(' ')
    const p50 = median(list.map(r => r.p50))
    const p99 = median(list.map(r => r.p99))
    lines.push(`| ${name} | ${c} | ${median(list.map(r => r.rps)).toFixed(1)} | ${p50.toFixed(0)} | ${p99.toFixed(0)} | ${Math.max(...list.map(r => r.max)).toFixed(0)} | ${(p99 / p50).toFixed(2)} |`)
  }
  process.stdout.write(`${lines.join('\n')}\nload average at end ${loadavg()[0].toFixed(2)}\n`)
}

main().catch((err: Error) => {
  progress(`failed: ${err.stack ?? err}`)
  process.exitCode = 1
}).finally(async () => {
  await killAllChildren()
  rmSync(tempDir, { recursive: true, force: true })
})
