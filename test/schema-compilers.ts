// Schema compilers shared by every app a test process builds. Compiling the routes' validators (ajv)
// and response serializers (fast-json-stringify) is most of the CPU time of building an app, and a
// test file builds many apps from the same schemas: each schema is compiled once per process here,
// and its generated code is kept on disk (node_modules/.cache/portcullis-schemas) for the next
// processes, so most test processes compile none: about a CPU-second of each of them.
//
// These are Fastify's own default compilers (the copies Fastify itself loads), with Fastify's
// options, behind a cache keyed by what the compiled function depends on: the schema, the shared
// schemas it may reference, the compiler options, all by value, and the compilers' versions. A
// compiled validator or serializer is a pure function of those, so sharing it between apps changes
// nothing they do. On disk it is the compilers' own standalone code (ajv's standalone module, fast-
// json-stringify's standalone mode: what @fastify/ajv-compiler/standalone and
// @fastify/fast-json-stringify-compiler/standalone store), the same functions they compile in memory.
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyServerOptions } from 'fastify'

type Compile = (route: RouteSchema) => unknown
type Factory = (externalSchemas: unknown, options: any) => Compile
interface RouteSchema { schema: unknown, httpPart?: string }

const fastifyRequire = createRequire(import.meta.resolve('fastify'))
/** require as each compiler resolves it: its standalone code requires its own runtime modules. */
const validatorRequire = createRequire(fastifyRequire.resolve('@fastify/ajv-compiler'))
const serializerRequire = createRequire(fastifyRequire.resolve('@fastify/fast-json-stringify-compiler'))
const ValidatorSelector = validatorRequire('./index.js') as (() => Factory) & { AjvReference: symbol }
const { SerializerSelector } = serializerRequire('./standalone.js') as { SerializerSelector: () => Factory }
const standaloneCode = validatorRequire('ajv/dist/standalone').default as (ajv: unknown, validate: unknown) => string

function versionOf (require: NodeJS.Require, name: string): string {
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version
}

const root = fileURLToPath(new URL('../', import.meta.url))
const cacheDir = join(root, 'node_modules', '.cache', 'portcullis-schemas')
/** What every compiled function depends on besides its schema and options: another version is another cache. */
const salt = [
  'portcullis-schemas 1',
  versionOf(fastifyRequire, '@fastify/ajv-compiler'),
  versionOf(validatorRequire, 'ajv'),
  versionOf(validatorRequire, 'ajv-formats'),
  versionOf(fastifyRequire, '@fastify/fast-json-stringify-compiler'),
  versionOf(serializerRequire, 'fast-json-stringify'),
  readFileSync(fileURLToPath(import.meta.url), 'utf8')
].join('\0')

/** Runs stored standalone code (a CommonJS module body) with its compiler's require: its exports. */
function evaluate (code: string, require: NodeJS.Require): unknown {
  const module = { exports: {} as unknown }
  // eslint-disable-next-line no-new-func
  new Function('module', 'exports', 'require', code)(module, module.exports, require)
  return module.exports
}

function readStored (file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

function store (file: string, code: string): void {
  // Two test processes may write the same entry: each writes its own file and renames it into place.
  mkdirSync(dirname(file), { recursive: true })
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`
  writeFileSync(temporary, code)
  renameSync(temporary, file)
}

interface Kind {
  name: string
  require: NodeJS.Require
  /** The compiler for a set of shared schemas and options, emitting standalone code. */
  standalone (externalSchemas: unknown, options: any): (route: RouteSchema) => string
}

const validators = ValidatorSelector()
const validator: Kind = {
  name: 'validator',
  require: validatorRequire,
  standalone (externalSchemas, options) {
    // ajv keeps the source it generates only with code.source (the options are copied: Fastify's stay as they are).
    const compile = validators(externalSchemas, { ...options, customOptions: { ...options.customOptions, code: { ...options.customOptions?.code, source: true } } })
    const ajv = (compile as unknown as Record<symbol, { ajv: unknown }>)[ValidatorSelector.AjvReference].ajv
    return route => standaloneCode(ajv, compile(route))
  }
}

const serializers = SerializerSelector()
const serializer: Kind = {
  name: 'serializer',
  require: serializerRequire,
  standalone (externalSchemas, options) {
    const compile = serializers(externalSchemas, { ...options, mode: 'standalone' })
    return route => compile(route) as string
  }
}

const compiled = new Map<string, unknown>()

function sha256 (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

function shared (kind: Kind) {
  return (externalSchemas: unknown, options: unknown) => {
    // Hashed once per app: the schemas of its routes are keyed under it.
    const context = sha256(`${salt}\0${kind.name}\0${JSON.stringify(externalSchemas)}\0${JSON.stringify(options)}`)
    let compile: ((route: RouteSchema) => string) | undefined
    return (route: RouteSchema) => {
      if (kind === validator && route.httpPart === 'headers') {
        // Fastify lower-cases a headers schema before its default compiler sees it, and hands it
        // unchanged to a custom one like this: compiled here, header names would match differently.
        throw new Error('test/schema-compilers.ts does not handle headers schemas: lower-case their property names as Fastify does, or compile them without this cache')
      }
      const key = `${context}\0${route.httpPart ?? ''}\0${JSON.stringify(route.schema)}`
      let fn = compiled.get(key)
      if (fn === undefined) {
        const file = join(cacheDir, `${sha256(key)}.cjs`)
        let code = readStored(file)
        if (code === undefined) {
          compile ??= kind.standalone(externalSchemas, options)
          code = compile(route)
          store(file, code)
        }
        fn = evaluate(code, kind.require)
        compiled.set(key, fn)
      }
      return fn
    }
  }
}

/** The schemaController option for buildApp: compiled schemas shared across this process's apps and test processes. */
export const sharedSchemaCompilers: FastifyServerOptions['schemaController'] = {
  compilersFactory: {
    buildValidator: shared(validator) as any,
    buildSerializer: shared(serializer) as any
  }
}
