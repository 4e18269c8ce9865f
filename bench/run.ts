// npm run bench: the built service against a bare Fastify baseline, measured in the same run on this machine.
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { cpuTimeMs, killAllChildren, killAllChildrenNow, memoryOf } from './children.js'
import { generateEcKeyPair, generateRsaKeyPair, loginMany, registerUsers, type Session } from './fixtures.js'
import { bcryptHashMs } from './hash-time.js'
import { runLoad, startLoad, stopAllLoads, type LoadOptions, type LoadResult } from './load.js'
import { describeMachine } from './machine.js'
import { writeResults } from './report.js'
import { loginLoad, meBesideRefreshFlood, meLoad, refreshLoad, registerLoad } from './scenarios.js'
import { startBaseline, startService, type Server } from './servers.js'
import { loadSettings, plannedLoadSeconds, plannedScaleOutSeconds, type Settings } from './settings.js'
import { REFERENCE, summarise, type HashingRun } from './summary.js'

const root = resolve(import.meta.dirname, '..')
const BENCH_USERS = 4

const progress = (message: string) => process.stderr.write(`${message}\n`)

// --- clean-up: children and the temp dir go on success, error, interrupt and time-out alike ---
const tempDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'))
let cleaning: Promise<void> | undefined
let interrupted = false
function cleanup (): Promise<void> {
  cleaning ??= (async () => {
    stopAllLoads()
    await killAllChildren()
    rmSync(tempDir, { recursive: true, force: true })
  })()
  return cleaning
}
process.on('exit', () => {
  // Synchronous last resort, for an exit that skipped the orderly path.
  killAllChildrenNow()
  rmSync(tempDir, { recursive: true, force: true })
})
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    interrupted = true
    progress(`\n${signal}: stopping the servers`)
    cleanup().finally(() => process.exit(code))
  })
}

/** One run; with `server`, also the CPU time that server spent per successful answer. */
async function measured (label: string, options: LoadOptions, server?: Server): Promise<LoadResult> {
  const before = server && cpuTimeMs(server.child.pid)
  const result = await runLoad(options)
  const after = server && cpuTimeMs(server.child.pid)
  if (before !== undefined && after !== undefined && result.ok > 0) result.cpuMsPerOk = (after - before) / result.ok
  progress(`  ${label}: ${result.rps.toFixed(1)} req/s, p99 ${result.p99.toFixed(2)} ms, non-2xx ${result.non2xx}, errors ${result.errors}`)
  return result
}

async function assertMeWorks (service: Server, baseline: Server, session: Session): Promise<void> {
  const headers = { authorization: `Bearer ${session.access}` }
  for (const url of [`${service.origin}/api/auth/me`, `${baseline.origin}/me`]) {
    const response = await fetch(url, { headers })
    const text = await response.text()
    if (response.status !== 200) throw new Error(`GET ${url}: HTTP ${response.status} ${text}`)
  }
}

async function bench (settings: Settings) {
  const startedAt = new Date()
  const machine = describeMachine(root, tempDir, settings.cores)
  const { duration, connections, refreshConnections } = settings
  progress(`portcullis bench: ${duration} s per run, ${connections} connections (/me), ${refreshConnections} (refresh), ${settings.hashConnections.join(' and ')} (login, register), ${settings.rounds} rounds, bcrypt cost ${settings.bcryptCost}, ${settings.cores} cores, load ${machine.loadAverage.toFixed(2)}`)

  const keys = generateRsaKeyPair()
  const databasePath = join(tempDir, 'bench.db')
  const service = await startService({ root, databaseUrl: `file:${databasePath}`, privatePem: keys.privatePem, bcryptCost: settings.bcryptCost, hashWorkers: settings.hashWorkers })
  await sleep(1000)
  const idleAfterStart = memoryOf(service.child.pid)
  const baseline = await startBaseline({ root, databasePath, publicPem: keys.publicPem })
  progress(`  service on ${service.origin} (RSS ${idleAfterStart.rssMiB.toFixed(1)} MiB), baseline on ${baseline.origin}`)

  // The same service signing with ES256 (JWT_ALGORITHM=ES256), for refresh only: what the signature's
  // algorithm costs there (an RS256 signature is ~0.7 ms of CPU, an ES256 one ~0.05 ms).
  const es256 = await startService({ root, databaseUrl: `file:${join(tempDir, 'bench-es256.db')}`, privatePem: generateEcKeyPair().privatePem, algorithm: 'ES256', bcryptCost: settings.bcryptCost, hashWorkers: settings.hashWorkers })
  const es256Chain = refreshLoad(es256.origin, await loginMany(es256.origin, await registerUsers(es256.origin, BENCH_USERS), 2 * refreshConnections))

  const users = await registerUsers(service.origin, BENCH_USERS)
  const meSessions = await loginMany(service.origin, users, connections)
  await assertMeWorks(service, baseline, meSessions[0])
  const serviceMe = meLoad(`${service.origin}/api/auth/me`, meSessions)
  const baselineMe = meLoad(`${baseline.origin}/me`, meSessions)
  const hello = { url: `${baseline.origin}/hello` }
  // The service's own floor: its cheapest route (no token, no database), through every hook each
  // request passes (security headers, request id, audit context, CORS). No route can beat it.
  const floor = { url: `${service.origin}/health/live` }
  // Twice as many chains as connections: a lost token (error, time-out) must not starve a connection.
  // One pool for every refresh run: a token left in it at the end of a run is still live.
  const chain = refreshLoad(service.origin, await loginMany(service.origin, users, 2 * refreshConnections))

  if (settings.warmup > 0) {
    progress(`warm-up (${settings.warmup} s each, not reported)`)
    await runLoad({ ...baselineMe, connections, duration: settings.warmup })
    await runLoad({ ...serviceMe, connections, duration: settings.warmup })
    await runLoad({ ...chain, connections: refreshConnections, duration: settings.warmup })
    await chain.recover()
    await runLoad({ ...es256Chain, connections: refreshConnections, duration: settings.warmup })
    await es256Chain.recover()
  }

  // Alternating order (ABBA…) so that a drift in machine load does not favour one side.
  const rounds = { hello: [] as LoadResult[], floor: [] as LoadResult[], baseline: [] as LoadResult[], service: [] as LoadResult[], refresh: [] as LoadResult[], es256Refresh: [] as LoadResult[], meDuringRefresh: [] as LoadResult[], mePacedDuringRefresh: [] as LoadResult[], refreshFlood: [] as LoadResult[] }
  for (let round = 1; round <= settings.rounds; round++) {
    progress(`round ${round}/${settings.rounds}`)
    const runs = [
      async () => rounds.hello.push(await measured('baseline GET /hello', { ...hello, connections, duration }, baseline)),
      async () => rounds.floor.push(await measured('service GET /health/live', { ...floor, connections, duration }, service)),
      async () => rounds.baseline.push(await measured('baseline GET /me', { ...baselineMe, connections, duration }, baseline)),
      async () => rounds.service.push(await measured('service GET /api/auth/me', { ...serviceMe, connections, duration }, service)),
      async () => {
        rounds.refresh.push(await measured('service POST /api/auth/token/refresh', { ...chain, connections: refreshConnections, duration }, service))
        await chain.recover()
      },
      async () => {
        rounds.es256Refresh.push(await measured('ES256 service POST /api/auth/token/refresh', { ...es256Chain, connections: refreshConnections, duration }, es256))
        await es256Chain.recover()
      }
    ]
    for (const run of round % 2 === 1 ? runs : runs.reverse()) await run()
    // /me beside a refresh flood: the commits of the flood must not hold up the reads.
    const beside = await meBesideRefreshFlood({ me: serviceMe, refresh: chain, connections, floodConnections: refreshConnections, pacedRate: settings.pacedRate, duration, measure: measured })
    rounds.meDuringRefresh.push(beside.saturating)
    rounds.mePacedDuringRefresh.push(beside.paced)
    rounds.refreshFlood.push(beside.flood)
    await chain.recover()
    progress(`  refresh flood: ${rounds.refreshFlood.at(-1)!.rps.toFixed(1)} req/s, p99 ${rounds.refreshFlood.at(-1)!.p99.toFixed(1)} ms`)
  }

  // Measured just before the logins it is the yardstick for, with the servers idle: a shared
  // machine's speed drifts over a run.
  const hashMs = bcryptHashMs(settings.bcryptCost)
  const targetLoginRps = settings.cores / (hashMs / 1000)
  progress(`bcrypt cost ${settings.bcryptCost}: ${hashMs.toFixed(1)} ms per hash → target ${targetLoginRps.toFixed(1)} logins/s`)
  // autocannon stops sending, but the requests already queued for the hashing pool still run: let
  // them drain so they do not eat into the next measurement.
  const drain = (queued: number) => sleep(Math.ceil(queued * hashMs / settings.cores) + 500)

  const hashing: HashingRun[] = []
  for (const hashConnections of settings.hashConnections) {
    for (const endpoint of ['login', 'register'] as const) {
      const shape = endpoint === 'login' ? loginLoad(service.origin, users) : registerLoad(service.origin, `bench-c${hashConnections}`)
      const result = await measured(`service POST /api/auth/${endpoint} (c=${hashConnections})`, { ...shape, connections: hashConnections, duration }, service)
      hashing.push({ endpoint, connections: hashConnections, result })
      await drain(hashConnections)
    }
  }

  progress(`/me during a login flood (${settings.floodConnections} login connections)`)
  const loginFloodRun = startLoad({ ...loginLoad(service.origin, users), connections: settings.floodConnections, duration: duration + 30 })
  // A head start, so that the hashing pool is saturated before /me is measured.
  await sleep(1000)
  const meDuringFlood = await measured('service GET /api/auth/me during login flood', { ...serviceMe, connections, duration })
  loginFloodRun.stop()
  const loginFlood = await loginFloodRun.result
  progress(`  login flood: ${loginFlood.rps.toFixed(1)} req/s, non-2xx ${loginFlood.non2xx}, errors ${loginFlood.errors}`)

  // Idle means the flood's queued logins have drained too.
  await sleep(Math.ceil(settings.floodConnections * hashMs / settings.cores) + 1000)
  if (service.child.process.exitCode !== null) throw new Error(`the service exited during the run:\n${service.child.tail()}`)
  const idleAfterRun = memoryOf(service.child.pid)
  const loadAverageAtEnd = loadavg()[0]

  const { rows, targets, text } = summarise({
    startedAt,
    machine,
    loadAverageAtEnd,
    settings,
    hashMs,
    targetLoginRps,
    memory: { idleAfterStart, idleAfterRun },
    helloRounds: rounds.hello,
    floorRounds: rounds.floor,
    baselineRounds: rounds.baseline,
    serviceRounds: rounds.service,
    refreshRounds: rounds.refresh,
    es256RefreshRounds: rounds.es256Refresh,
    mePacedDuringRefreshRounds: rounds.mePacedDuringRefresh,
    meDuringRefreshRounds: rounds.meDuringRefresh,
    refreshFloodRounds: rounds.refreshFlood,
    refreshStarved: chain.starved(),
    hashing,
    meDuringFlood,
    loginFlood,
    serviceLog: { warnings: service.child.warnings(), tail: service.child.tail() }
  })

  const file = writeResults(join(root, 'bench', 'results'), startedAt, {
    startedAt,
    finishedAt: new Date(),
    machine: { ...machine, loadAverageAtEnd },
    settings,
    bcrypt: { cost: settings.bcryptCost, hashMs, targetLoginRps },
    memory: { idleAfterStart, idleAfterRun },
    reference: REFERENCE,
    scenarios: rows,
    targets,
    serviceLogWarnings: service.child.warnings()
  })
  process.stdout.write(`${text}\nresults: ${file}\n`)
}

async function main (): Promise<void> {
  const settings = loadSettings(process.env)
  // Bounded: the planned load plus generous set-up time; past it, something hangs.
  const scaleOut = process.argv.includes('--postgres')
  const limitMs = ((scaleOut ? plannedScaleOutSeconds(settings) : plannedLoadSeconds(settings)) * 1.5 + 120) * 1000
  const watchdog = setTimeout(() => {
    progress(`bench still running after ${Math.round(limitMs / 1000)} s: giving up`)
    cleanup().finally(() => process.exit(1))
  }, limitMs)
  watchdog.unref()
  try {
    if (scaleOut) {
      const { benchScaleOut } = await import('./scale-out.js')
      process.stdout.write(`${await benchScaleOut(settings, { root, tempDir, progress })}\n`)
    } else {
      await bench(settings)
    }
  } finally {
    clearTimeout(watchdog)
    await cleanup()
  }
}

main().catch((err: Error) => {
  if (!interrupted) progress(`bench failed: ${err.stack ?? err}`)
  process.exitCode = 1
})
