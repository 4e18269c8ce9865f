// passwords/: the password policy and hashing on worker threads.
// Password hashing on a pool of worker threads sized to the cores, so logins never stall other requests.
import { randomBytes } from 'node:crypto'
import { Piscina } from 'piscina'
import { errors } from '../errors.js'
import { MAX_PASSWORD_BYTES } from './policy.js'
import { djangoAlgorithm } from './django-hashes.js'

export interface PasswordHasher {
  hash (password: string): Promise<string>
  /** Compares in constant shape: an undefined or unusable hash still costs one full compare. */
  verify (password: string, hash: string | null | undefined): Promise<boolean>
  /** True when the hash is not bcrypt at the configured cost (a lower cost, or a Django hash): it is rehashed on next login. */
  needsRehash (hash: string): boolean
  close (): Promise<void>
}

const workerUrl = new URL('./worker.js', import.meta.url)

/** The cost a bcrypt hash was made with, from its `$2b$NN$` prefix. */
export function bcryptCost (hash: string): number | undefined {
  const match = /^\$2[abxy]?\$(\d{2})\$/.exec(hash)
  return match ? Number(match[1]) : undefined
}

export interface HashWorkerOptions {
  threads: number
  /** A flood of logins queues here instead of growing memory without bound; past it, 503. */
  maxQueue?: number
}

/** The worker threads that hash: one pool per app, unless its builder hands one in (createPasswordHasher's `workers`). */
export function createHashWorkers (options: HashWorkerOptions): Piscina {
  return new Piscina({
    filename: workerUrl.href,
    // worker.js is plain JavaScript and needs none of the parent's flags: a TypeScript loader or test
    // instrumentation inherited from them would cost every thread seconds of start-up.
    execArgv: [],
    // None at start: each thread is a V8 isolate of ~12 MiB resident, idle on a server nobody logs
    // in to (and in every CLI command). The first hash starts them (tens of ms, once); after
    // idleTimeout without work they end again.
    minThreads: 0,
    maxThreads: options.threads,
    maxQueue: options.maxQueue ?? 512,
    idleTimeout: 60_000
  })
}

/**
 * `workers`: a pool made by createHashWorkers that outlives this hasher (close() leaves it running).
 * The tests share one between the apps of a process: starting a worker thread and loading bcrypt in
 * it costs ~150 ms of CPU, about as much as the rest of building an app. The server never passes one.
 */
export function createPasswordHasher (options: HashWorkerOptions & { cost: number, workers?: Piscina }): PasswordHasher {
  const owned = options.workers === undefined
  const pool = options.workers ?? createHashWorkers(options)
  let dummyHash: Promise<string> | undefined
  /** This hasher's tasks on a pool it does not own, which close() waits for instead of closing the pool. */
  const inFlight = new Set<Promise<unknown>>()

  async function run<T> (task: Record<string, unknown>): Promise<T> {
    try {
      if (owned) return await pool.run(task)
      const pending: Promise<T> = pool.run(task)
      inFlight.add(pending)
      try {
        return await pending
      } finally {
        inFlight.delete(pending)
      }
    } catch (err) {
      if ((err as Error).message?.includes('Task queue is at limit')) throw errors.serverBusy()
      throw err
    }
  }

  function dummy (): Promise<string> {
    // A hash at the configured cost of a password nobody knows: unknown accounts pay the same compare.
    // A failure (a full queue) is not kept: a cached rejection would answer 503 to every unknown
    // account for ever while known ones get 401, which tells them apart.
    if (dummyHash === undefined) {
      const pending = run<string>({ op: 'hash', password: randomBytes(16).toString('hex'), cost: options.cost })
      dummyHash = pending
      pending.catch(() => { if (dummyHash === pending) dummyHash = undefined })
    }
    return dummyHash
  }

  return {
    hash (password) {
      return run<string>({ op: 'hash', password, cost: options.cost })
    },
    async verify (password, hash) {
      // bcrypt ignores bytes past 72: a longer password could match a stored prefix, so it never matches.
      // The same limit holds for Django's formats: the password is re-hashed to bcrypt once it matches.
      // Anything else (Django's unusable `!` password, a format or parameters not verified) costs the dummy compare.
      const known = typeof hash === 'string' && (bcryptCost(hash) !== undefined || djangoAlgorithm(hash) !== undefined)
      const usable = known && Buffer.byteLength(password) <= MAX_PASSWORD_BYTES
      const against = usable ? hash : await dummy()
      const matches = await run<boolean>({ op: 'verify', password, hash: against })
      return usable && matches
    },
    needsRehash (hash) {
      // bcrypt first: it is every login's hash but an imported account's first.
      const cost = bcryptCost(hash)
      if (cost !== undefined) return cost < options.cost
      return djangoAlgorithm(hash) !== undefined
    },
    async close () {
      // Let queued and running hashes finish (their requests are still being answered), then stop.
      if (owned) await pool.close()
      else await Promise.allSettled([...inFlight])
    }
  }
}
