// The bench's knobs, from the environment, checked before anything starts.
import { availableParallelism } from 'node:os'

export interface Settings {
  /** Seconds per measured run. */
  duration: number
  connections: number
  /** Baseline and service /me pairs; medians are reported. */
  rounds: number
  floodConnections: number
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

export function loadSettings (env: NodeJS.ProcessEnv): Settings {
  return {
    duration: integer(env, 'BENCH_DURATION', 10, 1, 60),
    connections: integer(env, 'BENCH_CONNECTIONS', 10, 1, 500),
    rounds: integer(env, 'BENCH_ROUNDS', 3, 1, 9),
    floodConnections: integer(env, 'BENCH_FLOOD_CONNECTIONS', 20, 1, 500),
    warmup: integer(env, 'BENCH_WARMUP', 2, 0, 30),
    // The service's own bounds for BCRYPT_COST.
    bcryptCost: integer(env, 'BCRYPT_COST', 10, 4, 17),
    ...(env.HASH_WORKERS?.trim() && { hashWorkers: integer(env, 'HASH_WORKERS', 0, 1, 64) }),
    cores: availableParallelism()
  }
}

/** Seconds of load the settings add up to: the measured runs, the warm-ups and the flood's head start. */
export function plannedLoadSeconds (s: Settings): number {
  const runs = 2 * s.rounds + 3
  return runs * s.duration + 2 * s.warmup + 1
}

/** The same for `--postgres`: three deployments, four scenarios a round, and the hashing drains. */
export function plannedScaleOutSeconds (s: Settings): number {
  return 3 * s.rounds * (4 * s.duration + 4)
}
