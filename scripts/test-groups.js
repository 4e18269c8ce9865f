// The test files of a run, grouped into processes: the files of one folder (one capability) run one
// after another in one tap process, instead of a process each.
//
// Why: a test process costs far more than its tests in most files. Node and tap start, every module
// of tap and of the app is loaded (through the TypeScript loader's hooks thread) and compiled again,
// and coverage is written and read back at exit. Measured on the 17 files of test/routes/api/auth
// (`npx tap <files>`, two jobs, alternating runs): 80-99 s and 144-178 CPU-seconds as 17 processes,
// 38-42 s and 41-46 CPU-seconds as one, the same 1,644 assertions passing.
//
// A test file is still a whole tap test on its own (`npx tap test/x.test.ts`, `npm test -- <file>`):
// its subtests register on tap's root test, here the group's. Tests share nothing across files but
// what is built to be shared (one hashing thread, the schema compilers' cache), and each app still
// gets a fresh database. A file that must have a process of its own says so in a line of its own:
//
//   // test-process: own — <why>
//
// (a root-level teardown or `t.before` that must run before or after that file's tests only, or a
// test of process-wide state).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { pathToFileURL } from 'node:url'

const OWN_PROCESS = /^\/\/ test-process: own\b/m

/**
 * The groups of `files` (paths relative to `root`, .test.ts): one per folder, or the file alone when
 * it asks for its own process. (tap starts them in the order of their names. The order hardly
 * matters at two jobs: replaying one run's group times, alphabetical order ends within 1 s of the
 * best order.)
 */
export function groupTestFiles (root, files) {
  const byFolder = new Map()
  const groups = []
  for (const file of files) {
    if (OWN_PROCESS.test(readFileSync(join(root, file), 'utf8'))) {
      groups.push({ name: file, files: [file] })
      continue
    }
    const folder = dirname(file)
    if (!byFolder.has(folder)) byFolder.set(folder, { name: folder, files: [] })
    byFolder.get(folder).files.push(file)
  }
  return [...groups, ...byFolder.values()]
}

/**
 * The test file tap runs for each of `groups`, as `{ group, entry }`: a group of one file is that
 * file; a larger group is an entry written into `directory` (emptied first) that imports its files
 * one after another.
 * @param {string} root
 * @param {{ name: string, files: string[] }[]} groups
 * @param {string} directory
 * @returns {{ group: { name: string, files: string[] }, entry: string }[]}
 */
export function writeGroupEntries (root, groups, directory) {
  rmSync(directory, { recursive: true, force: true })
  mkdirSync(directory, { recursive: true })
  return groups.map(group => {
    if (group.files.length === 1) return { group, entry: group.files[0] }
    const entry = join(directory, `${group.name.replaceAll(sep, '-')}.test.mjs`)
    const urls = group.files.map(file => pathToFileURL(join(root, file)).href)
    writeFileSync(entry, `// Written by scripts/test.js (scripts/test-groups.js): the test files of ${group.name}${sep}, in one process.
import t from 'tap'

for (const file of ${JSON.stringify(urls, null, 2)}) {
  // A file that ended tap's root test (t.end() or a plan at its top level) would leave the next
  // file's tests unrun, with no failure: fail the group instead.
  if (t.ended || t.results) throw new Error(\`tap's root test ended before \${file} was loaded: the file before it ends the root test, and needs a process of its own ("// test-process: own" in that file)\`)
  await import(file)
}
`)
    return { group, entry: relative(root, entry) }
  })
}
