// @fastify/rate-limit's store contract over an AttemptStore, so its per-address limits count in the
// same shared store as the login throttle.
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { AttemptStore } from './attempt-counter.js'

type Callback = Parameters<FastifyRateLimitStore['incr']>[1]
type ChildOptions = Parameters<FastifyRateLimitStore['child']>[0]

/**
 * What the plugin really passes, to the constructor (its global options) and to `child` (a route's
 * merged options): the declared types name the route's options, which are under `routeInfo`.
 */
interface LimitOptions {
  timeWindow?: unknown
  routeInfo?: { method?: unknown, url?: unknown }
}

/**
 * A store class for @fastify/rate-limit's `store` option. Fixed windows only: the plugin's
 * `continueExceeding` and `exponentialBackoff` are not supported (the service uses neither).
 * Each route counts apart, as with the plugin's own stores: the key carries its method and URL.
 */
export function rateLimitStore (store: AttemptStore, now: () => number = Date.now): FastifyRateLimitStoreCtor {
  class AttemptRateLimitStore implements FastifyRateLimitStore {
    readonly #prefix: string
    readonly #timeWindow: number | undefined

    constructor (options: LimitOptions = {}, prefix = 'rate-limit:') {
      this.#prefix = prefix
      this.#timeWindow = typeof options.timeWindow === 'number' ? options.timeWindow : undefined
    }

    // The plugin passes the window (and max) after the callback; the declared type omits them.
    incr (key: string, callback: Callback, timeWindow = this.#timeWindow): void {
      if (timeWindow === undefined) {
        callback(new Error('a rate limit needs a numeric timeWindow'))
        return
      }
      const at = now()
      store.increment(this.#prefix + key, timeWindow, at).then(
        counted => callback(null, { current: counted.count, ttl: Math.max(0, counted.resetAt - at) }),
        (err: Error) => callback(err)
      )
    }

    child (routeOptions: ChildOptions): FastifyRateLimitStore {
      const { routeInfo } = routeOptions as LimitOptions
      const method = String(routeInfo?.method ?? '')
      const url = String(routeInfo?.url ?? '')
      return new AttemptRateLimitStore(routeOptions as LimitOptions, `${this.#prefix}${method}${url}:`)
    }
  }
  return AttemptRateLimitStore
}
