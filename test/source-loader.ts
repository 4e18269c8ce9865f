// How a child process runs the TypeScript sources in the tests: through tsx, without coverage.

/** Node arguments that run a .ts entry point: tsx starts in a fraction of a second. */
export const SOURCE_LOADER_ARGS = ['--import', 'tsx']

/**
 * Environment for such a child under tap. tap's process tracking turns coverage on in children, but
 * tsx compiles each source file to other JavaScript than tap's own TypeScript loader does, and
 * merging the two coverages of one file corrupts the report. The code the children run is
 * exercised in-process by the other tests; the children only prove the process-level behaviour.
 */
export const NO_CHILD_COVERAGE = { _TAPJS_PROCESSINFO_COVERAGE_: '0' }
