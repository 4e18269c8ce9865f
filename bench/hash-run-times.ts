// `node --import tsx bench/hash-run-times.ts [worker.js]`: how long each bcrypt hash takes inside the
// hashing pool's threads while the event loop is busy (4 ms of work per turn, as under load) — the
// time a hash runs, not the time it queued. A spread far above the in-process hash time means the
// workers were denied CPU (e.g. a lowered thread priority on a machine with other work).
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Piscina } from 'piscina'
import { median } from './stats.js'

const worker = resolve(process.argv[2] ?? join(import.meta.dirname, '..', 'src', 'passwords', 'worker.js'))
const tasks = Number(process.env.BENCH_HASHES ?? 48)
const cost = Number(process.env.BCRYPT_COST ?? 10)
const dir = mkdtempSync(join(tmpdir(), 'portcullis-hash-times-'))
// A wrapper around the real worker that reports which thread ran the hash and for how long.
const wrapper = join(dir, 'timed-worker.mjs')
writeFileSync(wrapper, `import { threadId } from 'node:worker_threads'
import run from ${JSON.stringify(pathToFileURL(worker).href)}
export default function (task) { const start = performance.now(); run(task); return { threadId, runMs: performance.now() - start } }
`)
const pool = new Piscina({ filename: pathToFileURL(wrapper).href, minThreads: 2, maxThreads: 2, execArgv: [] })
let spinning = true
const spin = () => {
  const end = performance.now() + 4
  while (performance.now() < end);
  if (spinning) setImmediate(spin)
}
spin()
const byThread: Record<string, number[]> = {}
await Promise.all(Array.from({ length: tasks }, async () => {
  const result = await pool.run({ op: 'hash', password: 'bench password 2024', cost }) as { threadId: number, runMs: number }
  ;(byThread[result.threadId] ??= []).push(result.runMs)
}))
spinning = false
await pool.destroy()
rmSync(dir, { recursive: true, force: true })
for (const [thread, times] of Object.entries(byThread)) {
  process.stdout.write(`thread ${thread}: ${times.length} hashes, run time median ${median(times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms\n`)
}
