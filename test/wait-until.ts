// waitUntil(condition): poll until the condition holds, instead of sleeping a fixed time and hoping.
//
// There is no deadline that fails the test: on a busy machine any fixed deadline is eventually hit
// by a test that is not broken. A condition that never comes true is caught by tap's per-file
// timeout (.taprc); so that such a hang says what it waited for, a line goes to stderr once the
// wait has lasted `reportAfterMs` (and the wait goes on).
//
// Given the test, the wait gives up as soon as that test has failed an assertion: what it waits for
// usually depends on what was just asserted (a process that should have started, a write that
// should have landed), and waiting on would turn one clear failure into a 30-minute hang.
interface Passing { passing (): boolean }

export async function waitUntil (condition: () => boolean | Promise<boolean>, reportAfterMs = 10_000, what = 'condition', t?: Passing): Promise<void> {
  const started = Date.now()
  let reported = false
  while (!(await condition())) {
    if (t !== undefined && !t.passing()) throw new Error(`stopped waiting for ${what}: the test has already failed`)
    if (!reported && Date.now() - started > reportAfterMs) {
      reported = true
      process.stderr.write(`# still waiting for ${what} after ${reportAfterMs} ms\n`)
    }
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
