// The packed @portcullis/verify in an empty project: it installs, type-checks and runs on its own.
// test-process: own — the package is packed once, in a root-level t.before, before this file's tests
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { NO_CHILD_COVERAGE } from '../../source-loader.js'

const exec = promisify(execFile)
const root = new URL('../../../', import.meta.url).pathname
const packageDir = join(root, 'packages/verify')
const tsc = join(root, 'node_modules/typescript/bin/tsc')
const versionOf = (name: string): string => JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version

/**
 * The children's environment without tap's loader (NODE_OPTIONS) and without the settings of an
 * outer `npm test` (npm_*), which would point npm back at this repository.
 */
function childEnv (): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...NO_CHILD_COVERAGE }
  delete env.NODE_OPTIONS
  for (const name of Object.keys(env)) if (name.toLowerCase().startsWith('npm_')) delete env[name]
  return env
}

async function run (command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await exec(command, args, { cwd, env: childEnv(), maxBuffer: 16 * 1024 * 1024 })
    return stdout
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string, stderr?: string }
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}${stderr ?? ''}`, { cause: err })
  }
}

function tempDir (t: Test, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A project outside this repository (so nothing resolves from its node_modules) with the tarball installed. */
async function consumerProject (t: Test, tarball: string, alsoInstall: string[] = []): Promise<string> {
  const dir = tempDir(t, 'portcullis-consumer-')
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...alsoInstall], dir)
  return dir
}

/** Compiles `file` in `dir` with this repository's TypeScript, strict under NodeNext, and runs it. */
async function compileAndRun (dir: string, file: string, source: string, tscOptions: string[] = []): Promise<unknown> {
  writeFileSync(join(dir, file), source)
  await run(process.execPath, [tsc, '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', ...tscOptions, file], dir)
  return JSON.parse(await run(process.execPath, [file.replace(/\.ts$/, '.js')], dir))
}

let tarball = ''
let packed: { size: number, entryCount: number, files: { path: string }[] }

t.before(async () => {
  const dir = tempDir(t, 'portcullis-pack-')
  const [result] = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', dir], packageDir))
  tarball = join(dir, result.filename)
  packed = result
})

t.test('the tarball holds the built entry points with their types, and nothing else', async t => {
  const paths = packed.files.map(file => file.path).sort()
  for (const path of ['dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js', 'dist/testing/index.d.ts', 'package.json', 'README.md']) {
    t.ok(paths.includes(path), path)
  }
  t.same(paths.filter(path => !/^dist\/.+\.(js|d\.ts)$/.test(path)), ['README.md', 'package.json'], 'no sources, tests or configuration')
  t.ok(packed.size < 50_000, `${packed.size} bytes packed, ${packed.entryCount} files`)
})

t.test('a project with nothing but the tarball verifies a token under tsc --strict and NodeNext', async t => {
  const dir = await consumerProject(t, tarball)
  t.same(readdirSync(join(dir, 'node_modules')).filter(name => !name.startsWith('.')).sort(), ['@portcullis', 'fastify-plugin', 'jose'],
    'the package and its two dependencies are the whole install')

  // Without Fastify the plugin's declarations name a module that is not there: the library is not
  // checked (skipLibCheck), this file is, strictly, against the package's types.
  const output = await compileAndRun(dir, 'verify.ts', `
import { TokenInvalidError, verifyAccessToken, type VerifiedToken } from '@portcullis/verify'
import { startIssuer } from '@portcullis/verify/testing'

const issuer = await startIssuer()
const token = await issuer.mint({ sub: 'user-1', permissions: ['posts.add'] })
const claims: VerifiedToken = await verifyAccessToken(token, { issuer: issuer.issuer, audience: issuer.audience })
let refused: string | undefined
try {
  await verifyAccessToken(await issuer.mint({}, { unpublishedKey: true }), { issuer: issuer.issuer, audience: issuer.audience })
} catch (err) {
  refused = err instanceof TokenInvalidError ? err.code : String(err)
}
await issuer.close()
console.log(JSON.stringify({ claims, refused }))
`, ['--skipLibCheck'])
  t.match(output, {
    claims: { sub: 'user-1', permissions: ['posts.add'], token_type: 'access', iss: /^http:\/\/127\.0\.0\.1:\d+$/, aud: 'portcullis' },
    refused: 'token_not_valid'
  }, 'the verified claims, and a token from an unpublished key refused')
})

t.test('a Fastify service with the tarball type-checks without skipLibCheck and guards a route', async t => {
  // Fastify is the optional peer; its types need Node's.
  const dir = await consumerProject(t, tarball, [`fastify@${versionOf('fastify')}`, `@types/node@${versionOf('@types/node')}`])
  const output = await compileAndRun(dir, 'service.ts', `
import Fastify from 'fastify'
import portcullisVerify, { requirePermission } from '@portcullis/verify'
import { startIssuer } from '@portcullis/verify/testing'

const issuer = await startIssuer()
const app = Fastify()
await app.register(portcullisVerify, { issuer: issuer.issuer, audience: issuer.audience })
app.post('/posts', { onRequest: requirePermission('posts.add') }, async request => ({ author: request.accessToken!.sub }))
const post = async (permissions: string[]) => {
  const token = await issuer.mint({ sub: 'user-1', permissions })
  const res = await app.inject({ method: 'POST', url: '/posts', headers: { authorization: 'Bearer ' + token } })
  return { status: res.statusCode, body: res.json() }
}
const allowed = await post(['posts.add'])
const denied = await post([])
await app.close()
await issuer.close()
console.log(JSON.stringify({ allowed, denied }))
`)
  t.match(output, {
    allowed: { status: 200, body: { author: 'user-1' } },
    denied: { status: 403, body: { code: 'permission_denied' } }
  })
})
