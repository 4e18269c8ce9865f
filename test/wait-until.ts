// waitUntil(condition): poll until the condition holds, instead of sleeping a fixed time and hoping.
//
// There is no deadline that fails the test: on a busy machine any fixed deadline is eventually hit
// by a test that is not broken. A condition that never comes true is caught by tap's per-file
// timeout (.taprc); so that such a hang says what it waited for, a line goes to stderr once the
// wait has lasted `reportAfterMs` (and the wait goes on).
export async function waitUntil (condition: () => boolean | Promise<boolean>, reportAfterMs = 10_000, what = 'condition'): Promise<void> {
  const started = Date.now()
  let reported = false
  while (!(await condition())) {
    if (!reported && Date.now() - started > reportAfterMs) {
      reported = true
      process.stderr.write(`# still waiting for ${what} after ${reportAfterMs} ms\n`)
    }
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
