// The results: medians over rounds, the targets (reported, never asserted), the table and the JSON files.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { LoadResult } from './load.js'
import { median } from './stats.js'

export interface Row {
  scenario: string
  /** The summary shown; a median over `rounds` when there are several. */
  result: LoadResult
  rounds?: LoadResult[]
  note?: string
}

export interface Target {
  name: string
  pass: boolean
  actual: string
  detail: string
}

/** Medians of rate and percentiles; failures summed, since any is worth seeing. */
export function medianOf (rounds: LoadResult[]): LoadResult {
  const sum = (pick: (r: LoadResult) => number) => rounds.reduce((n, r) => n + pick(r), 0)
  const statusCodes: Record<string, number> = {}
  for (const r of rounds) {
    for (const [code, count] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count
  }
  return {
    rps: median(rounds.map(r => r.rps)),
    p50: median(rounds.map(r => r.p50)),
    p99: median(rounds.map(r => r.p99)),
    max: Math.max(...rounds.map(r => r.max)),
    ok: sum(r => r.ok),
    non2xx: sum(r => r.non2xx),
    errors: sum(r => r.errors),
    timeouts: sum(r => r.timeouts),
    statusCodes,
    seconds: sum(r => r.seconds),
    cpuMsPerOk: median(rounds.map(r => r.cpuMsPerOk ?? NaN))
  }
}

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-')
export const percent = (ratio: number) => (Number.isFinite(ratio) ? `${(ratio * 100).toFixed(1)} %` : '-')

export function renderTable (rows: Row[], baselineRps: number): string {
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'vs hello', 'cpu ms/req']
  const body = rows.map(({ scenario, result }) => [
    scenario,
    fixed(result.rps, 1),
    fixed(result.p50, 2),
    fixed(result.p99, 2),
    String(result.non2xx),
    String(result.errors),
    percent(result.rps / baselineRps),
    fixed(result.cpuMsPerOk ?? NaN, 3)
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map(r => r[i].length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  return [line(header), widths.map(w => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n')
}

export function renderTargets (targets: Target[]): string {
  const width = Math.max(...targets.map(t => t.name.length))
  return targets.map(t => `  ${t.pass ? 'PASS' : 'MISS'}  ${t.name.padEnd(width)}  ${t.actual}  (${t.detail})`).join('\n')
}

/** bench/results/<timestamp>.json and latest.json; returns the timestamped path. */
export function writeResults (dir: string, startedAt: Date, report: unknown): string {
  mkdirSync(dir, { recursive: true })
  const json = `${JSON.stringify(report, null, 2)}\n`
  const file = join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, json)
  writeFileSync(join(dir, 'latest.json'), json)
  return file
}
