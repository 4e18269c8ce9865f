// The request shapes of each scenario, as autocannon options: who sends which token or body.
import type { Client, Request } from 'autocannon'
import { loginBody, PASSWORD, type BenchUser, type Session } from './fixtures.js'
import { runLoad, startLoad, type LoadOptions, type LoadResult } from './load.js'

type Shape = Omit<LoadOptions, 'connections' | 'duration'>

/** Each connection its own session's access token, as distinct clients would send. */
export function meLoad (url: string, sessions: Session[]): Shape {
  let next = 0
  return {
    url,
    setupClient: (client: Client) => {
      client.setHeaders({ authorization: `Bearer ${sessions[next++ % sessions.length].access}` })
    }
  }
}

/** Each connection logs in as one of `users`, round robin. */
export function loginLoad (origin: string, users: BenchUser[]): Shape {
  let next = 0
  return {
    url: `${origin}/api/auth/login`,
    method: 'POST',
    // A flood queues logins behind the hashing pool for seconds: that is slow, not failed.
    timeout: 30,
    headers: { 'content-type': 'application/json' },
    setupClient: (client: Client) => {
      client.setBody(loginBody(users[next++ % users.length]))
    }
  }
}

export interface RefreshChain extends Shape {
  /** Requests sent without a live token because the pool ran dry (each one a 401). */
  starved (): number
  /**
   * After a run was stopped: the tokens whose answer never came back (cut off in flight) are
   * presented again, within the grace window, so that their successors return to the pool. Without
   * this every stopped run would lose up to one token per connection and a later run would starve.
   */
  recover (): Promise<number>
}

/**
 * Refresh tokens rotate and a reused one kills its session, so every request presents a token never
 * sent before: a pool of live tokens, each 200 putting its successor back. autocannon calls
 * onResponse before it builds the connection's next request, so with pipelining 1 the pool holds
 * steady as long as it starts with more tokens than connections and the answers are 200s.
 */
export function refreshLoad (origin: string, sessions: Session[]): RefreshChain {
  const live = sessions.map(s => s.refresh)
  const inFlight = new Set<string>()
  let starved = 0
  const request: Request = {
    method: 'POST',
    path: '/api/auth/token/refresh',
    headers: { 'content-type': 'application/json' },
    setupRequest: (params, context) => {
      const token = live.shift()
      if (token === undefined) starved++
      else inFlight.add(token)
      context.token = token
      return { ...params, body: JSON.stringify({ refresh: token ?? 'pool-ran-dry' }) }
    },
    onResponse: (status, body, context) => {
      inFlight.delete(context.token as string)
      if (status !== 200) return
      try {
        const { refresh } = JSON.parse(body) as { refresh?: unknown }
        if (typeof refresh === 'string') live.push(refresh)
      } catch {
        // A 200 without a JSON body would be a service bug; the missing successor shows as starvation.
      }
    }
  }
  return {
    url: `${origin}/api/auth/token/refresh`,
    method: 'POST',
    requests: [request],
    starved: () => starved,
    async recover () {
      const lost = [...inFlight]
      inFlight.clear()
      const answers = await Promise.all(lost.map(async token => {
        const response = await fetch(`${origin}/api/auth/token/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh: token }) })
        const { refresh } = await response.json() as { refresh?: unknown }
        return response.status === 200 && typeof refresh === 'string' ? refresh : undefined
      }))
      const recovered = answers.filter((token): token is string => token !== undefined)
      live.push(...recovered)
      return recovered.length
    }
  }
}

/** Every request registers a new account: unique email and username, the bench's password. */
export function registerLoad (origin: string, prefix: string): Shape {
  let next = 0
  const request: Request = {
    method: 'POST',
    path: '/api/auth/register',
    headers: { 'content-type': 'application/json' },
    setupRequest: (params) => {
      next++
      return { ...params, body: JSON.stringify({ email: `${prefix}-${next}@example.com`, username: `${prefix}_${next}`, password: PASSWORD }) }
    }
  }
  return { url: `${origin}/api/auth/register`, method: 'POST', timeout: 30, requests: [request] }
}

export interface BesideRefreshFlood {
  /** /me at `connections`, saturating: its latency is mostly its own queue. */
  saturating: LoadResult
  /** /me paced at `pacedRate` over 10 connections: the latency the flood adds to a request. */
  paced: LoadResult
  flood: LoadResult
}

/**
 * `me` while `refresh` floods the same service at `floodConnections` (after a second's head start):
 * at `connections`, then paced. `measure` runs each /me load (the bench's own reporting around
 * runLoad, or runLoad itself).
 */
export async function meBesideRefreshFlood (options: {
  me: Shape
  refresh: RefreshChain
  connections: number
  floodConnections: number
  pacedRate: number
  duration: number
  measure?: (label: string, options: LoadOptions) => Promise<LoadResult>
}): Promise<BesideRefreshFlood> {
  const { me, refresh, connections, pacedRate, duration } = options
  const measure = options.measure ?? ((_label: string, load: LoadOptions) => runLoad(load))
  const flood = startLoad({ ...refresh, connections: options.floodConnections, duration: 2 * duration + 30 })
  await new Promise(resolve => setTimeout(resolve, 1000))
  const saturating = await measure('service GET /api/auth/me during refresh flood', { ...me, connections, duration })
  const paced = await measure(`service GET /api/auth/me at ${pacedRate} req/s during refresh flood`, { ...me, connections: 10, overallRate: pacedRate, duration })
  flood.stop()
  return { saturating, paced, flood: await flood.result }
}
