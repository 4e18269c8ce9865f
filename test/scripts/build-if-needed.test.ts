// scripts/build-if-needed.js (before npm start, cli, db:migrate): compiles only when the sources
// changed since the last successful build, and a failed build leaves no stamp that would claim dist/
// is current. Run on a small project of its own: the script, the stamp, the asset copier and a
// tsconfig, with the repository's node_modules.
import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ON_POSTGRES } from '../helper.js'

const root = new URL('../../', import.meta.url).pathname

function project (t: { teardown (fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-build-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'scripts'))
  for (const file of ['build-if-needed.js', 'build-stamp.js', 'build-assets.js']) copyFileSync(join(root, 'scripts', file), join(dir, 'scripts', file))
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'))
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
  // No Node types and a small lib: the fixture needs neither, and tsc loading @types/node was most of
  // the CPU of its five compiles.
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2023', module: 'NodeNext', moduleResolution: 'NodeNext', rootDir: '.', outDir: 'dist', strict: true, skipLibCheck: true, types: [], lib: ['ES2023'] } }))
  writeFileSync(join(dir, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', include: ['src'] }))
  mkdirSync(join(dir, 'src', 'cli'), { recursive: true })
  mkdirSync(join(dir, 'src', 'passwords'))
  writeFileSync(join(dir, 'src', 'passwords', 'common-passwords.txt.gz'), '')
  return dir
}

function buildIfNeeded (dir: string): Promise<{ code: number, output: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [join(dir, 'scripts', 'build-if-needed.js')], { cwd: dir }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : 1), output: stdout + stderr })
    })
  })
}

t.test('a type error fails the build and leaves no stamp; a fixed source builds once, then nothing is compiled until a source changes, and a failed rebuild forgets the old stamp', { skip: ON_POSTGRES && 'no database involved (run on the SQLite pass)' }, async t => {
  const dir = project(t)
  const main = join(dir, 'src', 'cli', 'main.ts')
  const stamp = join(dir, 'dist', '.sources-digest')
  const buildInfo = join(dir, 'dist', '.tsbuildinfo')

  writeFileSync(main, 'export const answer: number = "forty-two"\n')
  const failed = await buildIfNeeded(dir)
  t.not(failed.code, 0, 'the type error fails it')
  t.match(failed.output, /TS2322/)
  t.notOk(existsSync(stamp), 'no stamp: dist/ is not the build of these sources')

  writeFileSync(main, 'export const answer: number = 42\n')
  t.equal((await buildIfNeeded(dir)).code, 0)
  t.ok(existsSync(stamp), 'stamped')
  t.ok(existsSync(join(dir, 'dist', 'src', 'cli', 'main.js')), 'compiled')

  rmSync(buildInfo)
  t.equal((await buildIfNeeded(dir)).code, 0)
  t.notOk(existsSync(buildInfo), 'sources unchanged: tsc did not run')

  writeFileSync(main, 'export const answer: number = 43\n')
  t.equal((await buildIfNeeded(dir)).code, 0)
  t.ok(existsSync(buildInfo), 'a source changed: compiled again')

  writeFileSync(main, 'export const answer: number = null\n')
  t.not((await buildIfNeeded(dir)).code, 0)
  t.notOk(existsSync(stamp), 'the stamp of the last good build is gone: dist/ no longer matches the sources')
})
