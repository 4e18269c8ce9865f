// Runs bcrypt (and Django's hash formats) in a worker thread: bcryptjs, PBKDF2, scrypt and argon2 would otherwise block the event loop.
// Plain JavaScript so that the same file runs under the TypeScript loader in tests and from dist/.
import bcrypt from 'bcryptjs'
import { djangoAlgorithm, verifyDjango } from './django-hashes.js'

// No lowered priority (it was nice 10): a nice-10 thread gets about a tenth of a core beside any
// busy nice-0 thread (the event loop, the load generator, another process), so the worker sharing a
// core with one ran its hashes ~10× slower than the other worker, and the logins queued to it
// starved for seconds while others passed (p99 many times p50). At the same priority every hash
// gets an equal share and requests leave in the order they came (piscina's queue is FIFO).

export default function run (task) {
  if (task.op === 'hash') return bcrypt.hashSync(task.password, task.cost)
  if (task.op === 'verify') {
    return djangoAlgorithm(task.hash) !== undefined ? verifyDjango(task.password, task.hash) : bcrypt.compareSync(task.password, task.hash)
  }
  throw new Error(`unknown password task ${task.op}`)
}
