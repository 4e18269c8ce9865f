// Whether dist/ is the build of the sources as they are now. `npm test` builds before its passes and
// records the digest of what it built from (scripts/test.js); the processes that tests start (the CLI,
// the server) run the build only while the sources still have that digest (test/source-loader.ts).
// A digest of the contents, not file times: a checkout or a touch that leaves a file as it was
// changes nothing.
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('../', import.meta.url).pathname
const STAMP = join(root, 'dist', '.sources-digest')
/** What the build reads: tsconfig.build.json's "include", its configuration, and the asset copier. */
const INPUTS = ['src', 'plugins', 'routes', 'db', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build-assets.js']

function * files (path) {
  if (!existsSync(path)) return
  if (!statSync(path).isDirectory()) {
    yield path
    return
  }
  for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name < b.name ? -1 : 1)) {
    const child = join(path, entry.name)
    if (entry.isDirectory()) yield * files(child)
    else if (entry.isFile()) yield child
  }
}

/** A digest of every input of the build: paths and contents. */
export function sourcesDigest () {
  const hash = createHash('sha256')
  for (const input of INPUTS) {
    for (const file of files(join(root, input))) {
      hash.update(file.slice(root.length)).update('\0').update(readFileSync(file)).update('\0')
    }
  }
  return hash.digest('hex')
}

/** Records that dist/ was built from sources with `digest` (taken before the build started). */
export function recordBuild (digest) {
  writeFileSync(STAMP, `${digest}\n`)
}

/** Forgets the record: the children run the sources until the next successful build. */
export function forgetBuild () {
  rmSync(STAMP, { force: true })
}

/** True when dist/ was built from the sources as they are now (`digest`, when already taken). */
export function buildIsCurrent (digest = sourcesDigest()) {
  let recorded
  try {
    recorded = readFileSync(STAMP, 'utf8').trim()
  } catch {
    return false
  }
  return recorded === digest
}
