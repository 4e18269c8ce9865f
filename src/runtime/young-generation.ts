// V8's young generation held at its initial size while the server starts, free to grow once it serves.
//
// Start-up allocates ~25 MiB that all survive (modules, schemas, routes, prepared statements). V8
// reads that survival as a reason to double its young generation after each such scavenge, up to its
// 2 x 16 MiB maximum, and never gives it back while idle: ~30 MiB of resident memory for a generation
// that holds < 1 MiB of live objects once the server is up. server.ts imports
// it before anything else is parsed; once listening, V8 grows it again as the load asks for, so
// requests are served as before (the CPU time per /me and per refresh did not change measurably).
import v8 from 'node:v8'

// V8's default factor (Node 20 and 22); an operator's own --semi-space-growth-factor is left alone.
const DEFAULT_GROWTH_FACTOR = 2
const configured = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some(arg => /^--semi[-_]space[-_]growth[-_]factor/.test(arg))

if (!configured) v8.setFlagsFromString('--semi-space-growth-factor=1')

/** From now on the young generation grows as V8 sees fit. */
export function releaseYoungGeneration (): void {
  if (!configured) v8.setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`)
}
