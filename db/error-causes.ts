// Drivers wrap their errors (drizzle's DrizzleQueryError keeps the driver's as `cause`): storage code
// that classifies an error looks at each link of the chain.

/** The error and its causes, outermost first, at most a few deep. */
export function * errorChain (err: unknown): Generator<{ code?: unknown, message?: unknown, constraint?: unknown }> {
  let current: unknown = err
  for (let depth = 0; current !== null && typeof current === 'object' && depth < 5; depth++) {
    yield current as { code?: unknown, message?: unknown, constraint?: unknown }
    current = (current as { cause?: unknown }).cause
  }
}
