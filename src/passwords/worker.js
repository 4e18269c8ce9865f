// Runs bcrypt (and Django's hash formats) in a worker thread: bcryptjs, PBKDF2, scrypt and argon2 would otherwise block the event loop.
// Plain JavaScript so that the same file runs under the TypeScript loader in tests and from dist/.
import { setPriority } from 'node:os'
import bcrypt from 'bcryptjs'
import { djangoAlgorithm, verifyDjango } from './django-hashes.js'

// On Linux the nice value is per thread: lowering this worker's priority lets the event loop thread
// preempt hashing, so other requests keep answering quickly during a login flood while hashing still
// uses every idle cycle. Elsewhere (or without permission) it is only a missed optimisation.
try {
  setPriority(10)
} catch {}

export default function run (task) {
  if (task.op === 'hash') return bcrypt.hashSync(task.password, task.cost)
  if (task.op === 'verify') {
    return djangoAlgorithm(task.hash) !== undefined ? verifyDjango(task.password, task.hash) : bcrypt.compareSync(task.password, task.hash)
  }
  throw new Error(`unknown password task ${task.op}`)
}
