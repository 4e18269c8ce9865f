// One autocannon run, summarised: successful req/s and latency of the 2xx answers only, failures counted apart.
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks'
import autocannon, { type Client, type Instance, type Request } from 'autocannon'

export interface LoadOptions {
  url: string
  connections: number
  /** Seconds; a run started for longer can be cut short with `stop()`. */
  duration: number
  /** Requests per second over all connections (autocannon's overallRate): a paced load, not a saturating one. */
  overallRate?: number
  /** Seconds before autocannon gives up on an answer (and counts an error); default 10. */
  timeout?: number
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  requests?: Request[]
  setupClient?: (client: Client) => void
  /** Records 2xx latencies here instead of a histogram of the run's own (loads split over servers share one). */
  latency?: RecordableHistogram
}

export interface LoadResult {
  /** 2xx answers per second: failures must not inflate the rate. */
  rps: number
  /** Latency of 2xx answers, in ms, with microsecond resolution. */
  p50: number
  p99: number
  max: number
  ok: number
  non2xx: number
  /** Socket errors and timeouts (a timeout also counts as an error). */
  errors: number
  timeouts: number
  statusCodes: Record<string, number>
  seconds: number
  /** Server CPU time (all threads) per 2xx answer, in ms, when the run had the server to itself. */
  cpuMsPerOk?: number
}

export interface RunningLoad {
  stop (): void
  result: Promise<LoadResult>
}

/** Every load in flight, so that an interrupt can stop them all. */
const running = new Set<Instance>()

export function stopAllLoads (): void {
  for (const instance of running) instance.stop()
}

export function startLoad (options: LoadOptions): RunningLoad {
  // autocannon's own histogram rounds to whole milliseconds: too coarse for a 0.3 ms endpoint.
  const latency = options.latency ?? createHistogram()
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.duration,
    pipelining: 1,
    timeout: options.timeout ?? 10,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body !== undefined && { body: options.body }),
    ...(options.overallRate !== undefined && { overallRate: options.overallRate }),
    ...(options.requests !== undefined && { requests: options.requests }),
    ...(options.setupClient !== undefined && { setupClient: options.setupClient })
  })
  running.add(instance)
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) latency.record(Math.max(1, Math.round(ms * 1000)))
  })

  const result = Promise.resolve(instance).then((raw): LoadResult => {
    const ok = raw['2xx']
    const statusCodes = Object.fromEntries(Object.entries(raw.statusCodeStats).map(([code, s]) => [code, s.count]))
    const micros = (n: number) => (latency.count === 0 ? NaN : n / 1000)
    return {
      rps: raw.duration > 0 ? ok / raw.duration : 0,
      p50: micros(latency.percentile(50)),
      p99: micros(latency.percentile(99)),
      max: micros(latency.max),
      ok,
      non2xx: raw.non2xx,
      errors: raw.errors,
      timeouts: raw.timeouts,
      statusCodes,
      seconds: raw.duration
    }
  }).finally(() => running.delete(instance))

  return { stop: () => instance.stop(), result }
}

export function runLoad (options: LoadOptions): Promise<LoadResult> {
  return startLoad(options).result
}

/**
 * One load split over several servers behind an imaginary load balancer: `connections` shared out
 * between the origins, run at once; rates add up, latencies go to one histogram.
 */
export async function runSplitLoad (shapes: Array<Omit<LoadOptions, 'connections' | 'duration'>>, connections: number, duration: number): Promise<LoadResult> {
  const latency = createHistogram()
  const results = await Promise.all(shapes.map((shape, i) => runLoad({
    ...shape,
    duration,
    latency,
    connections: Math.floor(connections / shapes.length) + (i < connections % shapes.length ? 1 : 0)
  })))
  const sum = (pick: (r: LoadResult) => number) => results.reduce((n, r) => n + pick(r), 0)
  const statusCodes: Record<string, number> = {}
  for (const r of results) {
    for (const [code, count] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count
  }
  const seconds = Math.max(...results.map(r => r.seconds))
  const micros = (n: number) => (latency.count === 0 ? NaN : n / 1000)
  return {
    rps: seconds > 0 ? sum(r => r.ok) / seconds : 0,
    p50: micros(latency.percentile(50)),
    p99: micros(latency.percentile(99)),
    max: micros(latency.max),
    ok: sum(r => r.ok),
    non2xx: sum(r => r.non2xx),
    errors: sum(r => r.errors),
    timeouts: sum(r => r.timeouts),
    statusCodes,
    seconds
  }
}
