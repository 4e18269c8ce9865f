// Module hooks that run the TypeScript sources in the test processes, with a transpile cache on disk.
//
// tap's TypeScript plugin (ts-node, transpile-only) transpiled every source file again in every test
// process: some 4 CPU-seconds of each of the ~120 processes of a run, more than the tests themselves
// in most files. This emits the same JavaScript (TypeScript's transpileModule with ts-node's options:
// tsconfig.json, ES modules, an inline source map, so coverage and stack traces map onto the .ts
// files as before) and keeps it in node_modules/.cache, keyed by everything the output depends on:
// a file is transpiled once until it, tsconfig.json or TypeScript changes. TypeScript itself is
// loaded only on a miss. Registered after tap's plugin loaders, these hooks run before theirs.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const require = createRequire(join(root, 'package.json'))
const typescriptVersion = JSON.parse(readFileSync(require.resolve('typescript/package.json'), 'utf8')).version
const tsconfigPath = join(root, 'tsconfig.json')
const cacheDir = join(root, 'node_modules', '.cache', 'portcullis-ts-loader')
/** What every output depends on besides its source: a change to any of these is another cache. */
const salt = createHash('sha256')
  .update('portcullis-ts-loader 1\0')
  .update(typescriptVersion).update('\0')
  .update(readFileSync(tsconfigPath)).update('\0')
  .update(readFileSync(fileURLToPath(import.meta.url)))
  .digest('hex')

let transpiler
/** TypeScript's transpileModule with tsconfig.json's options as ts-node applies them (transpile-only). */
function getTranspiler () {
  if (transpiler !== undefined) return transpiler
  const ts = require('typescript')
  const { config, error } = ts.readConfigFile(tsconfigPath, ts.sys.readFile)
  if (error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'))
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root, undefined, tsconfigPath)
  const compilerOptions = {
    ...options,
    // ts-node's fixed options (TS_NODE_COMPILER_OPTIONS), and ES module output: the package is "type": "module".
    sourceMap: true,
    inlineSourceMap: false,
    // ts-node inlines the source into the map too; tap's coverage then carries every loaded module's
    // source in every test process's coverage file, and the report reads them all again. The map
    // names the .ts file, which the report and the stack traces read from disk instead: coverage
    // 29 -> 17 MB and ~5 % of the CPU of a sample of 18 test files, the same figures.
    inlineSources: false,
    declaration: false,
    declarationMap: false,
    noEmit: false,
    outDir: '.ts-node',
    // (NodeNext would emit CommonJS here: transpileModule sees no package.json. Resolution does
    // not change the output, but NodeNext resolution requires NodeNext modules.)
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler
  }
  transpiler = (source, path) => {
    const { outputText, sourceMapText, diagnostics } = ts.transpileModule(source, { fileName: path, compilerOptions, reportDiagnostics: true })
    if (diagnostics?.length) {
      throw new SyntaxError(ts.formatDiagnostics(diagnostics, { getCanonicalFileName: f => f, getCurrentDirectory: () => root, getNewLine: () => '\n' }))
    }
    // As ts-node: the source map names the .ts file, and is inlined in place of the .js.map reference.
    const map = JSON.parse(sourceMapText)
    map.file = path
    map.sources = [path]
    delete map.sourceRoot
    const code = outputText.replace(/\/\/# sourceMappingURL=\S+\s*$/, '')
    return `${code}//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}`
  }
  return transpiler
}

/** The cache entry of `path` with this `source`. */
function cacheFile (path, source) {
  const key = createHash('sha256').update(salt).update('\0').update(path).update('\0').update(source).digest('hex')
  return join(cacheDir, `${key}.js`)
}

function transpiled (path) {
  const source = readFileSync(path, 'utf8')
  const cached = cacheFile(path, source)
  try {
    return readFileSync(cached, 'utf8')
  } catch {}
  const output = getTranspiler()(source, path)
  // Two test processes may write the same entry: each writes its own file and renames it into place.
  mkdirSync(cacheDir, { recursive: true })
  const temporary = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`
  writeFileSync(temporary, output)
  renameSync(temporary, cached)
  return output
}

/**
 * Fills the cache for `paths` (absolute, as module URLs name them) in one process: scripts/test.js,
 * before tap starts. On a cold cache (a fresh clone: CI) every test process otherwise loaded
 * TypeScript to transpile at least its own test file, about a CPU-second each, some 120 CPU-seconds
 * of the SQLite pass. A file that does not transpile is left to the test that imports it to report.
 */
export function warmCache (paths) {
  for (const path of paths) {
    try {
      if (!existsSync(cacheFile(path, readFileSync(path, 'utf8')))) transpiled(path)
    } catch {}
  }
}

export async function resolve (specifier, context, nextResolve) {
  // NodeNext imports name the emitted file (./x.js): the source beside it is ./x.ts. Not from a
  // module with a query (a t.mockImport copy): those imports are @tapjs/mock's to resolve.
  const parent = context.parentURL
  if (specifier.endsWith('.js') && parent?.startsWith('file:') && !parent.includes('?') && /^\.{1,2}\//.test(specifier)) {
    const url = new URL(specifier, parent)
    const source = fileURLToPath(url).replace(/\.js$/, '.ts')
    if (existsSync(source)) return { url: pathToFileURL(source).href, format: 'module', shortCircuit: true }
  }
  return nextResolve(specifier, context)
}

export async function load (url, context, nextLoad) {
  // Only plain file URLs: one with a query (@tapjs/mock's) goes on to the loaders behind.
  if (url.startsWith('file:') && url.endsWith('.ts') && !url.endsWith('.d.ts')) {
    return { format: 'module', source: transpiled(fileURLToPath(url)), shortCircuit: true }
  }
  return nextLoad(url, context)
}
