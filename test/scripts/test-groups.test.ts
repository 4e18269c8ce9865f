// scripts/test-groups.js (npm test): test files grouped by folder into one tap process each, a file
// that asks for it alone, and a group that fails rather than skipping files silently. Run on small
// test files of their own (plain JavaScript), with the repository's node_modules for tap.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import t from 'tap'
import { groupTestFiles, writeGroupEntries } from '../../scripts/test-groups.js'
import { ON_POSTGRES } from '../helper.js'
import { NO_CHILD_COVERAGE } from '../source-loader.js'

const root = new URL('../../', import.meta.url).pathname
const SQLITE_PASS_ONLY = { skip: ON_POSTGRES && 'no database involved (run on the SQLite pass)' }

function project (t: { teardown (fn: () => unknown): void }, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-groups-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'))
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), source)
  }
  return dir
}

/** Runs a group's entry with node, as tap would (without tap's runner). */
function run (dir: string, entry: string): Promise<{ code: number, output: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [join(dir, entry)], { cwd: dir, env: { ...process.env, ...NO_CHILD_COVERAGE } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : 1), output: stdout + stderr })
    })
  })
}

const passing = (name: string) => `import t from 'tap'\nt.test(${JSON.stringify(name)}, async t => { t.pass('ran') })\n`

t.test('files group by folder, a file marked "test-process: own" is alone, and an entry runs its files in order in one process', SQLITE_PASS_ONLY, async t => {
  const dir = project(t, {
    'test/a/one.test.mjs': passing('a one'),
    'test/a/two.test.mjs': passing('a two'),
    'test/a/alone.test.mjs': `// test-process: own — a root-level t.before\n${passing('a alone')}`,
    'test/b/three.test.mjs': passing('b three')
  })
  const files = ['test/a/alone.test.mjs', 'test/a/one.test.mjs', 'test/a/two.test.mjs', 'test/b/three.test.mjs']
  const groups = groupTestFiles(dir, files)
  t.same(groups, [
    { name: 'test/a/alone.test.mjs', files: ['test/a/alone.test.mjs'] },
    { name: 'test/a', files: ['test/a/one.test.mjs', 'test/a/two.test.mjs'] },
    { name: 'test/b', files: ['test/b/three.test.mjs'] }
  ])
  const entries = writeGroupEntries(dir, groups, join(dir, '.test-groups')).map(({ entry }) => entry)
  t.same(entries, ['test/a/alone.test.mjs', '.test-groups/test-a.test.mjs', 'test/b/three.test.mjs'], 'a group of one is its file')

  const { code, output } = await run(dir, entries[1])
  t.equal(code, 0, 'the group passes', { output })
  t.match(output, /# Subtest: a one[\s\S]*ok 1 - a one[\s\S]*# Subtest: a two[\s\S]*ok 2 - a two/, 'both files, in order')
  t.match(output, /^1\.\.2$/m)
})

t.test('a file that ends the root test fails its group instead of leaving the next file unrun', SQLITE_PASS_ONLY, async t => {
  const dir = project(t, {
    'test/c/ends.test.mjs': 'import t from \'tap\'\nt.pass(\'skipped\')\nt.end()\n',
    'test/c/lost.test.mjs': passing('c lost')
  })
  const [{ entry }] = writeGroupEntries(dir, groupTestFiles(dir, ['test/c/ends.test.mjs', 'test/c/lost.test.mjs']), join(dir, '.test-groups'))
  t.match(readFileSync(join(dir, entry), 'utf8'), /ends\.test\.mjs[\s\S]*lost\.test\.mjs/)
  const { code, output } = await run(dir, entry)
  t.not(code, 0, 'the group fails')
  t.match(output, /tap's root test ended before file:\/\/\S+\/test\/c\/lost\.test\.mjs was loaded/)
  t.match(output, /test-process: own/, 'and says how to mend it')
})
