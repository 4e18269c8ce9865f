// Runs bcrypt in a worker thread: bcryptjs is pure JavaScript and would otherwise block the event loop.
// Plain JavaScript so that the same file runs under the TypeScript loader in tests and from dist/.
import bcrypt from 'bcryptjs'

export default function run (task) {
  if (task.op === 'hash') return bcrypt.hashSync(task.password, task.cost)
  if (task.op === 'verify') return bcrypt.compareSync(task.password, task.hash)
  throw new Error(`unknown password task ${task.op}`)
}
