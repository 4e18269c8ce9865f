// health/: what /health/ready checks. Each store the service needs must answer within a deadline: a
// PostgreSQL or Redis that hangs makes the instance not ready, it does not hang the probe.

export interface ReadinessCheck {
  /** Who is asked, for the log and the answer (never a URL or an error message). */
  name: string
  check (): Promise<unknown>
}

export interface FailedCheck {
  name: string
  err: unknown
}

export class CheckTimedOut extends Error {
  constructor (name: string, timeoutMs: number) {
    super(`${name} did not answer within ${timeoutMs} ms`)
    this.name = 'CheckTimedOut'
  }
}

function withDeadline (check: ReadinessCheck, timeoutMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise((_resolve, reject) => {
    timer = setTimeout(() => reject(new CheckTimedOut(check.name, timeoutMs)), timeoutMs)
  })
  // A check that loses the race may still fail later: that is already reported, not unhandled.
  const answer = Promise.resolve().then(() => check.check())
  answer.catch(() => {})
  return Promise.race([answer, deadline]).finally(() => clearTimeout(timer))
}

/** Runs every check at once; the ones that failed or did not answer in `timeoutMs`, in order. */
export async function failedChecks (checks: ReadinessCheck[], timeoutMs: number): Promise<FailedCheck[]> {
  const results = await Promise.allSettled(checks.map(check => withDeadline(check, timeoutMs)))
  return results.flatMap((result, i) => result.status === 'rejected' ? [{ name: checks[i].name, err: result.reason }] : [])
}
