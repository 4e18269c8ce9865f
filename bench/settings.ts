// The bench's knobs, from the environment, checked before anything starts.
import { availableParallelism } from 'node:os'

export interface Settings {
  /** Seconds per measured run. */
  duration: number
  connections: number
  /** Connections of the refresh runs and of the refresh flood beside /me. */
  refreshConnections: number
  /** The connection counts login and register are each measured at (saturation and starvation). */
  hashConnections: number[]
  /** Baseline and service /me pairs; medians are reported. */
  rounds: number
  floodConnections: number
  /** Requests per second of the paced /me beside the refresh flood: latency added by the flood, not queueing of a saturating load. */
  pacedRate: number
  /** Seconds of unreported load on each server before the first measured run. */
  warmup: number
  bcryptCost: number
  /** Passed to the service when set; otherwise it sizes its pool to the cores. */
  hashWorkers?: number
  cores: number
}

function integer (env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim()
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`)
  }
  return value
}

function list (env: NodeJS.ProcessEnv, name: string, fallback: number[]): number[] {
  const raw = env[name]?.trim()
  if (raw === undefined || raw === '') return fallback
  return raw.split(',').map((part, i) => integer({ [name]: part }, name, fallback[i] ?? 1, 1, 500))
}

export function loadSettings (env: NodeJS.ProcessEnv): Settings {
  return {
    duration: integer(env, 'BENCH_DURATION', 10, 1, 60),
    connections: integer(env, 'BENCH_CONNECTIONS', 50, 1, 500),
    refreshConnections: integer(env, 'BENCH_REFRESH_CONNECTIONS', 50, 1, 500),
    hashConnections: list(env, 'BENCH_HASH_CONNECTIONS', [8, 32]),
    rounds: integer(env, 'BENCH_ROUNDS', 3, 1, 9),
    floodConnections: integer(env, 'BENCH_FLOOD_CONNECTIONS', 20, 1, 500),
    pacedRate: integer(env, 'BENCH_PACED_RATE', 500, 1, 100_000),
    warmup: integer(env, 'BENCH_WARMUP', 2, 0, 30),
    // The service's own bounds for BCRYPT_COST.
    bcryptCost: integer(env, 'BCRYPT_COST', 10, 4, 17),
    ...(env.HASH_WORKERS?.trim() && { hashWorkers: integer(env, 'HASH_WORKERS', 0, 1, 64) }),
    cores: availableParallelism()
  }
}

/** Seconds of load the settings add up to: the measured runs, the warm-ups and the flood's head start. */
export function plannedLoadSeconds (s: Settings): number {
  // Per round: hello, the service floor, baseline /me, service /me, refresh, refresh with ES256, /me during a refresh
  // flood (saturating, then paced); then login and register at each hash connection count, and /me
  // during a login flood.
  const runs = 8 * s.rounds + 2 * s.hashConnections.length + 1
  return runs * s.duration + 3 * s.warmup + 2 * s.rounds + 1
}

/** The same for `--postgres`: three deployments, four scenarios a round, and the hashing drains. */
export function plannedScaleOutSeconds (s: Settings): number {
  return 3 * s.rounds * (4 * s.duration + 4)
}
