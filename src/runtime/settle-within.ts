// Waiting for work on shutdown, but not forever.

/** Resolves when every promise has settled or `timeoutMs` has passed, whichever comes first. */
export async function settleWithin (promises: Iterable<Promise<unknown>>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>(resolve => { timer = setTimeout(resolve, timeoutMs) })
  await Promise.race([Promise.allSettled([...promises]), timeout])
  clearTimeout(timer)
}
