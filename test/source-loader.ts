// How a child process runs the service's code in the tests: the compiled build (dist/) when it is
// current, else the TypeScript sources through tsx; either way without coverage.
import { join } from 'node:path'
import { buildIsCurrent } from '../scripts/build-stamp.js'

const root = new URL('../', import.meta.url).pathname

/** Node arguments that run a .ts entry point through tsx. */
export const SOURCE_LOADER_ARGS = ['--import', 'tsx']

/**
 * Environment for such a child under tap. tap's process tracking turns coverage on in children, but
 * tsx compiles each source file to other JavaScript than tap's own TypeScript loader does, and
 * merging the two coverages of one file corrupts the report. The code the children run is
 * exercised in-process by the other tests; the children only prove the process-level behaviour.
 */
export const NO_CHILD_COVERAGE = { _TAPJS_PROCESSINFO_COVERAGE_: '0' }

let current: boolean | undefined

/**
 * How a child runs the entry point `source` (`src/server.ts`, `src/cli/main.ts`): `node dist/….js`
 * when the build is current (checked once per test process; what production runs, and a child starts
 * in a fraction of the time tsx takes to load the sources), else the source through tsx.
 */
export function entryPoint (source: string): { args: string[], env: Record<string, string> } {
  current ??= buildIsCurrent()
  if (current) return { args: [join(root, 'dist', source.replace(/\.ts$/, '.js'))], env: {} }
  return { args: [...SOURCE_LOADER_ARGS, join(root, source)], env: { FASTIFY_AUTOLOAD_TYPESCRIPT: '1' } }
}
