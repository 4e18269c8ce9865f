// Polls Portcullis's revocation feed into a RevocationList; a failed poll keeps the last known state,
// failures back off with jitter, refused credentials are a configuration error, and revocations older
// than `maxStalenessMs` fail closed (or open, when chosen).
import { RevocationList } from './revocation-list.js'
import type { VerifiedToken } from './claims.js'
import { FeedConfigurationError, VerifierUnavailableError } from './errors.js'

/** The subset of a pino/Fastify logger the feed writes to. */
export interface FeedLogger {
  warn (obj: object, msg: string): void
  debug (obj: object, msg: string): void
  /** Configuration errors and stale revocations; `warn` when the logger has no `error`. */
  error? (obj: object, msg: string): void
}

/** What to do once the revocations are older than `maxStalenessMs`. */
export type StalePolicy = 'fail-closed' | 'fail-open'

export interface RevocationFeedOptions {
  /** The feed, e.g. `https://auth.example.com/api/auth/revocations`. */
  url: string
  /** A client registered in Portcullis (`POST /api/admin/clients`): the feed answers registered clients only. */
  client?: { id: string, secret: string }
  /** Instead of `client`: the Authorization header value for each request (e.g. a client-credentials Bearer token). */
  authorization?: () => string | Promise<string>
  /** Milliseconds between polls; default 30 s (±10 % jitter). A revocation takes at most this long to apply. */
  intervalMs?: number
  /**
   * After a failed poll the next one waits twice as long as the last (from `intervalMs`, with jitter)
   * up to this many milliseconds; default 5 min. Refused credentials (401/403) wait this long at once.
   */
  maxBackoffMs?: number
  /**
   * The staleness bound: once the feed has not been read successfully for this many milliseconds
   * (counted from creation before the first success), `staleness` applies. Default 15 min. Keep it
   * well above `intervalMs`.
   */
  maxStalenessMs?: number
  /**
   * Past `maxStalenessMs`: `'fail-closed'` (the default) refuses every token with
   * VerifierUnavailableError (a 503, never a 401) until the feed is read again; `'fail-open'` keeps
   * accepting tokens on the last known revocations and logs an error on each failed poll.
   */
  staleness?: StalePolicy
  /** Called with each failed poll's error: FeedConfigurationError for refused credentials (401/403). */
  onError?: (err: Error) => void
  /** Per-request timeout in milliseconds; default 5 s. */
  timeoutMs?: number
  /** How long entries are kept, in ms; default 24 h. Tokens older than this are refused (see RevocationList). */
  retentionMs?: number
  logger?: FeedLogger
  fetch?: typeof fetch
}

export interface RevocationFeed {
  /** Polls once now (following the cursor through every page); false when the feed could not be read. */
  poll (): Promise<boolean>
  /** Polls once, then every `intervalMs` until `close()`. */
  start (): Promise<void>
  /** Stops polling and waits for a poll in flight. */
  close (): Promise<void>
  /**
   * Why the token is revoked, or undefined. Throws VerifierUnavailableError when the feed is
   * fail-closed and stale beyond `maxStalenessMs`.
   */
  revocationOf (token: Pick<VerifiedToken, 'sid' | 'sub' | 'iat'> & { jti?: string }): string | undefined
  /** When the feed was last read successfully (epoch ms), or undefined. */
  readonly lastSuccessAt: number | undefined
  /** The last poll's error (FeedConfigurationError for refused credentials); undefined after a success. */
  readonly lastError: Error | undefined
  /** Whether the revocations are older than `maxStalenessMs`. */
  readonly stale: boolean
}

const SILENT: FeedLogger = { warn () {}, debug () {} }
/** A feed that keeps answering with a new cursor must not keep one poll going forever. */
const MAX_PAGES_PER_POLL = 50

interface FeedPage { items: unknown[], cursor: string }
/** The feed refused our cursor (400 invalid_cursor: it never issued it, e.g. after a restore). */
const RESET = Symbol('reset')

/** HTTP Basic client authentication: id and secret form-encoded before base64 (RFC 6749 §2.3.1). */
export function basicClientAuthorization (id: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`
}

function isFeedPage (body: unknown): body is FeedPage {
  const page = body as FeedPage
  return typeof page === 'object' && page !== null && Array.isArray(page.items) && typeof page.cursor === 'string'
}

async function problemCode (res: Response): Promise<unknown> {
  try {
    return ((await res.json()) as { code?: unknown } | null)?.code
  } catch {
    return undefined
  }
}

/**
 * The delay before the next poll: the interval ±10 % (a fleet of pollers drifts apart); after
 * `failures` failed polls in a row, `intervalMs * 2^failures` capped at `maxBackoffMs`, jittered
 * between half and all of it; refused credentials wait the whole `maxBackoffMs` (jittered) at once.
 */
export function pollDelay (state: { intervalMs: number, maxBackoffMs: number, failures: number, misconfigured: boolean }, random = Math.random()): number {
  if (state.failures === 0) return state.intervalMs * (0.9 + random * 0.2)
  const ceiling = state.misconfigured ? state.maxBackoffMs : Math.min(state.maxBackoffMs, state.intervalMs * 2 ** state.failures)
  return ceiling / 2 + random * ceiling / 2
}

export function createRevocationFeed (options: RevocationFeedOptions): RevocationFeed {
  const intervalMs = options.intervalMs ?? 30_000
  const maxBackoffMs = Math.max(options.maxBackoffMs ?? 300_000, intervalMs)
  const maxStalenessMs = options.maxStalenessMs ?? 15 * 60_000
  const failClosed = (options.staleness ?? 'fail-closed') === 'fail-closed'
  const timeoutMs = options.timeoutMs ?? 5_000
  const logger = options.logger ?? SILENT
  const logError = (obj: object, msg: string) => (logger.error ?? logger.warn).call(logger, obj, msg)
  const createdAt = Date.now()
  const fetchImpl = options.fetch ?? fetch
  const { client } = options
  const authorization = options.authorization ?? (client && (() => basicClientAuthorization(client.id, client.secret)))
  const list = new RevocationList(options.retentionMs ?? 24 * 60 * 60 * 1000)
  let cursor: string | undefined
  let lastSuccessAt: number | undefined
  let lastError: Error | undefined
  let failures = 0
  let timer: NodeJS.Timeout | undefined
  let inFlight: Promise<boolean> | undefined
  /** A poll asked for while one was in flight: it reads once that one is done. */
  let queued: Promise<boolean> | undefined
  let closed = false
  let started = false

  const staleFor = (now = Date.now()) => now - (lastSuccessAt ?? createdAt)

  async function fetchPage (): Promise<FeedPage | typeof RESET> {
    const url = new URL(options.url)
    if (cursor !== undefined) url.searchParams.set('since', cursor)
    const headers: Record<string, string> = { accept: 'application/json' }
    if (authorization) headers.authorization = await authorization()
    const res = await fetchImpl(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' })
    if (res.status === 401 || res.status === 403) throw new FeedConfigurationError(res.status)
    if (res.status === 400 && cursor !== undefined && await problemCode(res) === 'invalid_cursor') return RESET
    if (res.status !== 200) throw new Error(`the revocation feed answered ${res.status}`)
    const body: unknown = await res.json()
    if (!isFeedPage(body)) throw new Error('the revocation feed answered an unexpected body')
    return body
  }

  async function pollPages (): Promise<boolean> {
    try {
      for (let page = 0; page < MAX_PAGES_PER_POLL; page++) {
        const answer = await fetchPage()
        if (answer === RESET) {
          // Our cursor is ahead of the feed (its database restored from a backup, say): read it all
          // again. What we already know stays: those revocations happened.
          logger.warn({ cursor }, 'the revocation feed never issued our cursor; reading it again from the start')
          cursor = undefined
          continue
        }
        const { items, cursor: next } = answer
        const used = list.apply(items)
        if (used > 0) logger.debug({ revocations: used }, 'revocations applied')
        const moved = next !== cursor
        cursor = next
        if (items.length === 0 || !moved) break
      }
      lastSuccessAt = Date.now()
      lastError = undefined
      failures = 0
      list.prune(lastSuccessAt)
      return true
    } catch (caught) {
      const err = caught instanceof Error ? caught : new Error(String(caught))
      lastError = err
      failures++
      if (err instanceof FeedConfigurationError) {
        // Not an outage: retrying soon will not help, and the service must not look healthy.
        logError({ err, status: err.status, lastSuccessAt }, 'revocation feed refused the credentials: a configuration error')
      } else if (staleFor() > maxStalenessMs) {
        logError({ err, lastSuccessAt, maxStalenessMs }, failClosed
          ? 'revocation feed stale beyond maxStalenessMs; refusing tokens (fail-closed)'
          : 'revocation feed stale beyond maxStalenessMs; still accepting tokens (fail-open)')
      } else {
        // Keep serving from what is known: a feed outage must not take the service down with it.
        logger.warn({ err, lastSuccessAt }, 'revocation feed unavailable; using the last known revocations')
      }
      options.onError?.(err)
      return false
    }
  }

  function nextDelay (): number {
    return pollDelay({ intervalMs, maxBackoffMs, failures, misconfigured: lastError instanceof FeedConfigurationError })
  }

  function poll (): Promise<boolean> {
    if (inFlight === undefined) {
      inFlight = pollPages().finally(() => { inFlight = undefined })
      return inFlight
    }
    // The read under way may have started before what this caller wants to see (a revocation made
    // just now): one more read after it, shared by every caller that arrives meanwhile.
    queued ??= inFlight.then(() => {
      queued = undefined
      return closed ? false : poll()
    })
    return queued
  }

  function schedule (): void {
    if (closed) return
    timer = setTimeout(() => { poll().then(schedule, schedule) }, nextDelay())
    // Polling alone must not keep a process alive.
    timer.unref()
  }

  return {
    poll,
    async start () {
      // Once: a second start() must not run a second polling loop beside the first.
      if (started) return
      started = true
      await poll()
      schedule()
    },
    async close () {
      closed = true
      clearTimeout(timer)
      await inFlight
      await queued
    },
    revocationOf (token) {
      if (failClosed && staleFor() > maxStalenessMs) {
        throw new VerifierUnavailableError({ message: 'The revocations are too old to verify tokens against (the revocation feed cannot be read).', cause: lastError })
      }
      return list.revocationOf(token)
    },
    get lastSuccessAt () { return lastSuccessAt },
    get lastError () { return lastError },
    get stale () { return staleFor() > maxStalenessMs }
  }
}
