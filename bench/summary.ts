// Turns one run's measurements into the table rows, the targets and the printed report.
import type { Memory } from './children.js'
import type { LoadResult } from './load.js'
import type { Machine } from './machine.js'
import { medianOf, percent, renderTable, renderTargets, type Row, type Target } from './report.js'
import type { Settings } from './settings.js'

export interface Measurements {
  startedAt: Date
  machine: Machine
  loadAverageAtEnd: number
  settings: Settings
  hashMs: number
  targetLoginRps: number
  memory: { idleAfterStart: Memory, idleAfterRun: Memory }
  baselineRounds: LoadResult[]
  serviceRounds: LoadResult[]
  refresh: LoadResult
  refreshStarved: number
  login: LoadResult
  meDuringFlood: LoadResult
  loginFlood: LoadResult
  serviceLog: { warnings: number, tail: string }
}

const fixedMs = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? '-' : `${ms.toFixed(1)} ms`)
const mib = (m: Memory) => `${m.rssMiB.toFixed(1)} MiB`

export function summarise (m: Measurements): { rows: Row[], targets: Target[], text: string } {
  const { settings, machine, login, meDuringFlood, loginFlood } = m
  const { connections, duration, rounds: n } = settings
  const baselineMedian = medianOf(m.baselineRounds)
  const serviceMedian = medianOf(m.serviceRounds)
  const rows: Row[] = [
    { scenario: `baseline GET /me (median of ${n})`, result: baselineMedian, rounds: m.baselineRounds },
    { scenario: `service GET /api/auth/me (median of ${n})`, result: serviceMedian, rounds: m.serviceRounds },
    { scenario: 'service POST /api/auth/token/refresh', result: m.refresh, note: `${m.refreshStarved} requests found the token pool empty` },
    { scenario: 'service POST /api/auth/login', result: login },
    { scenario: `service GET /api/auth/me during login flood (${connections} conn)`, result: meDuringFlood },
    { scenario: `  the login flood itself (${settings.floodConnections} conn)`, result: loginFlood }
  ]

  const meRatio = serviceMedian.rps / baselineMedian.rps
  const loginRatio = login.rps / m.targetLoginRps
  const cpuRatio = (serviceMedian.cpuMsPerOk ?? NaN) / (baselineMedian.cpuMsPerOk ?? NaN)
  const targets: Target[] = [
    {
      name: '/me >= 85 % of baseline',
      pass: meRatio >= 0.85,
      actual: percent(meRatio),
      detail: `${serviceMedian.rps.toFixed(0)} vs ${baselineMedian.rps.toFixed(0)} req/s, medians of ${n} rounds; CPU per request ${percent(cpuRatio)} of baseline's`
    },
    {
      name: 'login >= 90 % of cores / hash time',
      pass: loginRatio >= 0.9,
      actual: percent(loginRatio),
      detail: `${login.rps.toFixed(1)} vs ${m.targetLoginRps.toFixed(1)} req/s = ${settings.cores} cores / ${m.hashMs.toFixed(1)} ms; service CPU ${fixedMs(login.cpuMsPerOk)} per login`
    },
    {
      name: '/me p99 < 20 ms during login flood',
      pass: meDuringFlood.p99 < 20,
      actual: `${meDuringFlood.p99.toFixed(2)} ms`,
      detail: `${meDuringFlood.rps.toFixed(0)} req/s beside ${loginFlood.rps.toFixed(1)} logins/s`
    }
  ]

  const { idleAfterStart, idleAfterRun } = m.memory
  const busy = Math.max(machine.loadAverage, m.loadAverageAtEnd) > settings.cores
  const lines = [
    '',
    `Portcullis bench  ${m.startedAt.toISOString()}  commit ${machine.commit}  node ${machine.node}`,
    `${machine.cpu}, ${machine.cores} cores, load ${machine.loadAverage.toFixed(2)} at start and ${m.loadAverageAtEnd.toFixed(2)} at end, database on ${machine.databaseFilesystem}`,
    `${duration} s per run, ${connections} connections, pipelining 1; latency of 2xx answers only; hashing workers: ${settings.hashWorkers ?? `${settings.cores} (service default)`}`,
    ...(busy ? [`warning: load average above ${settings.cores} cores: other processes competed for the CPU; trust the ratios and cpu ms/req over absolute req/s`] : []),
    '',
    renderTable(rows, baselineMedian.rps),
    '',
    `rounds, req/s  baseline: ${m.baselineRounds.map(r => r.rps.toFixed(0)).join(', ')}  service: ${m.serviceRounds.map(r => r.rps.toFixed(0)).join(', ')}  ratio per round: ${m.serviceRounds.map((r, i) => percent(r.rps / m.baselineRounds[i].rps)).join(', ')}`,
    `bcrypt cost ${settings.bcryptCost}: ${m.hashMs.toFixed(1)} ms per hash (median of 5, bcryptjs in-process); target login rate ${m.targetLoginRps.toFixed(1)}/s`,
    `service RSS: ${mib(idleAfterStart)} idle after start-up, ${mib(idleAfterRun)} idle after the run, peak ${idleAfterRun.peakMiB?.toFixed(1) ?? '-'} MiB`,
    `refresh: ${m.refreshStarved} requests found the token pool empty; service log lines at warn or above: ${m.serviceLog.warnings}`,
    '',
    'targets (reported, not asserted)',
    renderTargets(targets)
  ]
  for (const row of rows) {
    const failures = Object.entries(row.result.statusCodes).filter(([code]) => !code.startsWith('2'))
    if (failures.length > 0) lines.push(`  note: ${row.scenario.trim()}: ${failures.map(([code, count]) => `${count} × HTTP ${code}`).join(', ')}`)
  }
  if (m.serviceLog.warnings > 0) lines.push('', 'last service log lines:', m.serviceLog.tail)
  lines.push('')
  return { rows, targets, text: lines.join('\n') }
}
