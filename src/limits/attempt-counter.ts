// limits/: counting attempts per key and the login throttle built on it.
// Counts attempts per key in fixed windows. The store is an interface so that several instances can
// share one (Redis) later; the in-memory store is the default.

export interface AttemptCount {
  count: number
  /** Epoch ms when the current window ends and the count starts over. */
  resetAt: number
}

export interface AttemptStore {
  /** Adds one to `key` in its current window (a new window opens if the last one ended). */
  increment (key: string, windowMs: number, now: number): Promise<AttemptCount>
  /** The count of `key` in its current window, if one is open. */
  get (key: string, now: number): Promise<AttemptCount | undefined>
  /**
   * Takes one back from `key` in its current window, never below 0 (an attempt counted up front that
   * turned out not to count). Nothing happens when no window is open.
   */
  decrement (key: string, now: number): Promise<void>
  delete (key: string): Promise<void>
  close (): Promise<void>
}

export function createMemoryAttemptStore (sweepIntervalMs = 60_000): AttemptStore {
  const windows = new Map<string, AttemptCount>()
  // Ended windows are dropped periodically, so a flood of one-off keys cannot grow memory for long.
  const sweeper = setInterval(() => {
    const now = Date.now()
    for (const [key, window] of windows) if (window.resetAt <= now) windows.delete(key)
  }, sweepIntervalMs)
  sweeper.unref()

  return {
    async increment (key, windowMs, now) {
      let window = windows.get(key)
      if (window === undefined || window.resetAt <= now) {
        window = { count: 0, resetAt: now + windowMs }
        windows.set(key, window)
      }
      window.count += 1
      return { ...window }
    },
    async get (key, now) {
      const window = windows.get(key)
      return window !== undefined && window.resetAt > now ? { ...window } : undefined
    },
    async decrement (key, now) {
      const window = windows.get(key)
      if (window !== undefined && window.resetAt > now && window.count > 0) window.count -= 1
    },
    async delete (key) {
      windows.delete(key)
    },
    async close () {
      clearInterval(sweeper)
      windows.clear()
    }
  }
}
