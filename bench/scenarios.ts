// The request shapes of each scenario, as autocannon options: who sends which token or body.
import type { Client, Request } from 'autocannon'
import { loginBody, PASSWORD, type BenchUser, type Session } from './fixtures.js'
import type { LoadOptions } from './load.js'

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
}

/**
 * Refresh tokens rotate and a reused one kills its session, so every request presents a token never
 * sent before: a pool of live tokens, each 200 putting its successor back. autocannon calls
 * onResponse before it builds the connection's next request, so with pipelining 1 the pool holds
 * steady as long as it starts with more tokens than connections and the answers are 200s.
 */
export function refreshLoad (origin: string, sessions: Session[]): RefreshChain {
  const live = sessions.map(s => s.refresh)
  let starved = 0
  const request: Request = {
    method: 'POST',
    path: '/api/auth/token/refresh',
    headers: { 'content-type': 'application/json' },
    setupRequest: (params) => {
      const token = live.shift()
      if (token === undefined) starved++
      return { ...params, body: JSON.stringify({ refresh: token ?? 'pool-ran-dry' }) }
    },
    onResponse: (status, body) => {
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
    starved: () => starved
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
