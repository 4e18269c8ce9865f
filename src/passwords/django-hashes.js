// Django's password hash formats (django/contrib/auth/hashers.py), verified as they are: run in the hashing worker.
// Plain JavaScript so that the worker can import it under the TypeScript loader in tests and from dist/.
import { createHash, pbkdf2Sync, scryptSync, timingSafeEqual } from 'node:crypto'
// bcryptjs and hash-wasm (its source alone is ~0.3 MiB) are imported by the first Django hash
// verified: the main thread reads only djangoAlgorithm, and most workers never see a Django hash.

// Bounds on the parameters a stored hash may ask for: a hash is data from another system, and one
// with a billion iterations or gigabytes of memory must not take the service down when it is verified.
const MAX_PBKDF2_ITERATIONS = 10_000_000
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
const MAX_ARGON2_MEMORY_KIB = 1024 * 1024

const PBKDF2 = /^(pbkdf2_sha256|pbkdf2_sha1)\$(\d{1,9})\$([^$]+)\$([A-Za-z0-9+/]+={0,2})$/
const BCRYPT = /^(bcrypt_sha256|bcrypt)\$(\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53})$/
const ARGON2 = /^argon2(\$argon2(?:id|i)\$v=\d+\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+)$/
const SCRYPT = /^scrypt\$(\d{1,9})\$([^$]+)\$(\d{1,4})\$(\d{1,4})\$([A-Za-z0-9+/]+={0,2})$/

/**
 * The Django algorithm of a stored hash (`pbkdf2_sha256`, `argon2`, ...) when it is one this service
 * verifies with parameters inside its bounds; undefined for anything else (bcrypt of this service,
 * an unusable `!` password, an unknown or malformed hash).
 */
export function djangoAlgorithm (hash) {
  if (typeof hash !== 'string') return undefined
  let match = PBKDF2.exec(hash)
  if (match) {
    const iterations = Number(match[2])
    return iterations >= 1 && iterations <= MAX_PBKDF2_ITERATIONS ? match[1] : undefined
  }
  match = BCRYPT.exec(hash)
  if (match) return match[1]
  match = ARGON2.exec(hash)
  if (match) {
    const [memory, time, parallelism] = [Number(match[2]), Number(match[3]), Number(match[4])]
    return memory >= 8 && memory <= MAX_ARGON2_MEMORY_KIB && time >= 1 && time <= 64 && parallelism >= 1 && parallelism <= 64 ? 'argon2' : undefined
  }
  match = SCRYPT.exec(hash)
  if (match) {
    const [n, r, p] = [Number(match[1]), Number(match[3]), Number(match[4])]
    const powerOfTwo = n > 1 && (n & (n - 1)) === 0
    return powerOfTwo && r >= 1 && p >= 1 && p <= 16 && 128 * n * r <= MAX_SCRYPT_MEMORY ? 'scrypt' : undefined
  }
  return undefined
}

/** Compares two byte strings in time that depends only on their length (constant_time_compare). */
function sameBytes (a, b) {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Whether `password` matches the Django hash `hash`; the caller has checked it with djangoAlgorithm. */
export async function verifyDjango (password, hash) {
  const algorithm = djangoAlgorithm(hash)
  if (algorithm === 'pbkdf2_sha256' || algorithm === 'pbkdf2_sha1') {
    const [, , iterations, salt, expected] = PBKDF2.exec(hash)
    const digest = algorithm === 'pbkdf2_sha256' ? 'sha256' : 'sha1'
    const wanted = Buffer.from(expected, 'base64')
    const derived = pbkdf2Sync(password, salt, Number(iterations), digest === 'sha256' ? 32 : 20, digest)
    return sameBytes(derived, wanted)
  }
  if (algorithm === 'bcrypt_sha256' || algorithm === 'bcrypt') {
    const [, , bcryptHash] = BCRYPT.exec(hash)
    // bcrypt_sha256 hashes the password first (hex of its SHA-256) so that bcrypt's 72-byte limit never truncates it.
    const input = algorithm === 'bcrypt_sha256' ? createHash('sha256').update(password).digest('hex') : password
    const { default: bcrypt } = await import('bcryptjs')
    return bcrypt.compareSync(input, bcryptHash)
  }
  if (algorithm === 'argon2') {
    // argon2Verify compares in constant time; Django stores argon2-cffi's encoding after its `argon2` prefix.
    const { argon2Verify } = await import('hash-wasm')
    return argon2Verify({ password, hash: ARGON2.exec(hash)[1] })
  }
  if (algorithm === 'scrypt') {
    const [, n, salt, r, p, expected] = SCRYPT.exec(hash)
    const wanted = Buffer.from(expected, 'base64')
    const derived = scryptSync(password, salt, 64, { N: Number(n), r: Number(r), p: Number(p), maxmem: MAX_SCRYPT_MEMORY + 1024 * 1024 })
    return sameBytes(derived, wanted)
  }
  throw new Error('not a Django hash this service verifies')
}
