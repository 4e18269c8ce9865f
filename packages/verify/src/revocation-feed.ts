// Polls Portcullis's revocation feed into a RevocationList; a failed poll keeps the last known state.
import { RevocationList } from './revocation-list.js'
import type { VerifiedToken } from './claims.js'

/** The subset of a pino/Fastify logger the feed writes to. */
export interface FeedLogger {
  warn (obj: object, msg: string): void
  debug (obj: object, msg: string): void
}

export interface RevocationFeedOptions {
  /** The feed, e.g. `https://auth.example.com/api/auth/revocations`. */
  url: string
  /** A client registered in Portcullis (`POST /api/admin/clients`): the feed answers registered clients only. */
  client?: { id: string, secret: string }
  /** Instead of `client`: the Authorization header value for each request (e.g. a client-credentials Bearer token). */
  authorization?: () => string | Promise<string>
  /** Milliseconds between polls; default 30 s. A revocation takes at most this long to apply. */
  intervalMs?: number
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
  /** Why the token is revoked, or undefined. */
  revocationOf (token: Pick<VerifiedToken, 'sid' | 'sub' | 'iat'>): string | undefined
  /** When the feed was last read successfully (epoch ms), or undefined. */
  readonly lastSuccessAt: number | undefined
}

const SILENT: FeedLogger = { warn () {}, debug () {} }
/** A feed that keeps answering with a new cursor must not keep one poll going forever. */
const MAX_PAGES_PER_POLL = 50

interface FeedPage { items: unknown[], cursor: string }

/** HTTP Basic client authentication: id and secret form-encoded before base64 (RFC 6749 §2.3.1). */
export function basicClientAuthorization (id: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`
}

function isFeedPage (body: unknown): body is FeedPage {
  const page = body as FeedPage
  return typeof page === 'object' && page !== null && Array.isArray(page.items) && typeof page.cursor === 'string'
}

export function createRevocationFeed (options: RevocationFeedOptions): RevocationFeed {
  const intervalMs = options.intervalMs ?? 30_000
  const timeoutMs = options.timeoutMs ?? 5_000
  const logger = options.logger ?? SILENT
  const fetchImpl = options.fetch ?? fetch
  const { client } = options
  const authorization = options.authorization ?? (client && (() => basicClientAuthorization(client.id, client.secret)))
  const list = new RevocationList(options.retentionMs ?? 24 * 60 * 60 * 1000)
  let cursor: string | undefined
  let lastSuccessAt: number | undefined
  let timer: NodeJS.Timeout | undefined
  let inFlight: Promise<boolean> | undefined
  let closed = false
  let started = false

  async function fetchPage (): Promise<FeedPage> {
    const url = new URL(options.url)
    if (cursor !== undefined) url.searchParams.set('since', cursor)
    const headers: Record<string, string> = { accept: 'application/json' }
    if (authorization) headers.authorization = await authorization()
    const res = await fetchImpl(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' })
    if (res.status !== 200) throw new Error(`the revocation feed answered ${res.status}`)
    const body: unknown = await res.json()
    if (!isFeedPage(body)) throw new Error('the revocation feed answered an unexpected body')
    return body
  }

  async function pollPages (): Promise<boolean> {
    try {
      for (let page = 0; page < MAX_PAGES_PER_POLL; page++) {
        const { items, cursor: next } = await fetchPage()
        const used = list.apply(items)
        if (used > 0) logger.debug({ revocations: used }, 'revocations applied')
        const moved = next !== cursor
        cursor = next
        if (items.length === 0 || !moved) break
      }
      lastSuccessAt = Date.now()
      list.prune(lastSuccessAt)
      return true
    } catch (err) {
      // Keep serving from what is known: a feed outage must not take the service down with it.
      logger.warn({ err, lastSuccessAt }, 'revocation feed unavailable; using the last known revocations')
      return false
    }
  }

  function poll (): Promise<boolean> {
    inFlight ??= pollPages().finally(() => { inFlight = undefined })
    return inFlight
  }

  function schedule (): void {
    if (closed) return
    timer = setTimeout(() => { poll().then(schedule, schedule) }, intervalMs)
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
    },
    revocationOf: (token) => list.revocationOf(token),
    get lastSuccessAt () { return lastSuccessAt }
  }
}
