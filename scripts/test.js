// npm test: the whole suite on SQLite, then, when TEST_DATABASE_URL names a PostgreSQL server where
// the user may CREATE DATABASE, the whole suite again on PostgreSQL (each app on a fresh database:
// test/databases.ts). Test files and folders named as arguments run on both passes (`npm test -- test/config.test.ts
// test/limits`); options go to tap.
// Fails when either pass fails; runs both regardless, so one run shows every failure.
//
// Coverage, and its thresholds from .taprc, are measured on the SQLite pass only: tap checks the
// thresholds per run and each run replaces the previous run's coverage data, so the two passes cannot
// be added up, and a second figure would mostly measure the same domain, route and plugin code again.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { generateKeyPairSync } from 'node:crypto'
import { warmCache } from '../test/typescript-loader/hooks.mjs'
import { groupTestFiles, writeGroupEntries } from './test-groups.js'

const root = realpathSync(new URL('../', import.meta.url).pathname)
const tapBin = join(root, 'node_modules/.bin/tap')

/** The test files under `directory` (relative to the root), sorted. */
function testFilesUnder (directory) {
  return readdirSync(join(root, directory), { recursive: true }).map(String)
    .filter(file => file.endsWith('.test.ts')).sort().map(file => join(directory, file))
}

// No arguments: every test file (.taprc's include). A directory stands for the test files under it;
// both run grouped by folder, a process per group (scripts/test-groups.js). A file named on its own
// runs in a process of its own, as tap would run it. Options go to tap.
const options = process.argv.slice(2).filter(arg => arg.startsWith('-'))
const named = process.argv.slice(2).filter(arg => !arg.startsWith('-'))
const isDirectory = path => existsSync(path) && statSync(path).isDirectory()
const folders = named.filter(isDirectory).map(arg => relative(root, arg))
const namedFiles = named.filter(arg => !isDirectory(arg)).map(arg => relative(root, arg))
const grouped = (named.length === 0 ? ['test'] : folders).flatMap(testFilesUnder).filter(file => !namedFiles.includes(file))
const groups = [...groupTestFiles(root, grouped), ...namedFiles.map(file => ({ name: file, files: [file] }))]
const serverUrl = process.env.TEST_DATABASE_URL?.trim() || undefined

/** host:port/database of a PostgreSQL URL: never its password. */
function describe (url) {
  try {
    const parsed = new URL(url)
    return `${parsed.hostname || 'localhost'}:${parsed.port || 5432}${parsed.pathname}`
  } catch {
    return 'an unparsable URL'
  }
}

// The apps' signing key, made once for every test process of both passes (test/helper.ts).
const testPrivateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()

function tap (title, env, extraArgs, testFiles) {
  process.stdout.write(`\n# ${title}\n\n`)
  if (testFiles.length === 0) {
    process.stdout.write('# No test files\n')
    return 0
  }
  const { TEST_DATABASE_URL: _, ...inherited } = process.env
  const result = spawnSync(tapBin, [...extraArgs, ...options, ...testFiles], {
    stdio: 'inherit',
    env: { ...inherited, FASTIFY_AUTOLOAD_TYPESCRIPT: '1', TEST_PRIVATE_KEY: testPrivateKey, ...env }
  })
  if (result.error) throw result.error
  return result.status ?? 1
}

// The processes that tests start (the CLI, the server) run the build when it is current, and the
// sources through tsx otherwise (test/source-loader.ts): a compiled child starts in a fraction of the
// time. Brought up to date once here, for both passes. A build that fails (a type error: typecheck is
// its own step) only leaves those children on the sources: build:if-needed records the build stamp
// (scripts/build-if-needed.js) and forgets it until a build succeeds.
const build = spawnSync(process.execPath, [new URL('build-if-needed.js', import.meta.url).pathname], { stdio: 'inherit' })
if (build.status !== 0) {
  process.stdout.write('\n# The build failed: the tests run the CLI and server processes from source\n')
}

// The TypeScript the test processes load, transpiled into the loader's cache here, in one process
// (test/typescript-loader): on a cold cache each test process would load TypeScript itself.
warmCache(['src', 'plugins', 'routes', 'db', 'test', 'examples', 'packages'].flatMap(dir => {
  if (!existsSync(join(root, dir))) return []
  return readdirSync(join(root, dir), { recursive: true }).map(String)
    .filter(file => file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.split(sep).includes('node_modules') && !file.split(sep).includes('dist'))
    .map(file => join(root, dir, file))
}))

// The groups' entries, for both passes. The PostgreSQL repositories' own tests (test/db/postgres)
// run on the PostgreSQL pass only: on the SQLite pass they would test the same PostgreSQL code a
// second time.
const entries = writeGroupEntries(root, groups, join(root, '.test-groups'))
const postgresOnly = ({ name }) => `${name}${sep}`.startsWith(join('test', 'db', 'postgres') + sep)
const passes = [['SQLite', tap('Pass 1: SQLite (coverage thresholds from .taprc)', {}, [], entries.filter(({ group }) => !postgresOnly(group)).map(({ entry }) => entry))]]
if (serverUrl === undefined) {
  process.stdout.write('\n# The PostgreSQL pass is skipped: set TEST_DATABASE_URL (for example postgres://root@127.0.0.1:5432/postgres) to run it\n')
} else {
  passes.push(['PostgreSQL', tap(`Pass 2: PostgreSQL on ${describe(serverUrl)}`, { TEST_DATABASE_URL: serverUrl }, ['--disable-coverage'], entries.map(({ entry }) => entry))])
}

const failed = passes.filter(([, status]) => status !== 0).map(([name]) => name)
process.stdout.write(`\n# ${passes.map(([name, status]) => `${name}: ${status === 0 ? 'passed' : 'FAILED'}`).join(', ')}\n`)
process.exitCode = failed.length === 0 ? 0 : 1
