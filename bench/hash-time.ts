// What one bcrypt hash costs on this machine: the floor under any login rate the service can reach.
import bcrypt from 'bcryptjs'
import { median } from './stats.js'

/** Median wall time, in ms, of `samples` bcryptjs hashes at `cost` (after one unmeasured warm-up). */
export function bcryptHashMs (cost: number, samples = 5): number {
  bcrypt.hashSync('warm up the JIT', cost)
  const times: number[] = []
  for (let i = 0; i < samples; i++) {
    const start = process.hrtime.bigint()
    bcrypt.hashSync(`bench password ${i}`, cost)
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  return median(times)
}
