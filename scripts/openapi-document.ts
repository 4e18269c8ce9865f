// The OpenAPI document as committed in openapi.json: built from the app with a fixed configuration,
// in a stable key order, so that the file changes only when the API does.
import { generateKeyPairSync } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

/**
 * Everything that could leak into the document is pinned: the public URL (the `servers` entry) and
 * an in-memory database. Optional features keep their defaults: their routes are always registered.
 */
const DOCUMENT_ENV = {
  DATABASE_URL: ':memory:',
  PUBLIC_URL: 'http://localhost:3000',
  LOG_LEVEL: 'silent',
  HASH_WORKERS: '1',
  PRUNE_INTERVAL: '0'
}

const METHOD_ORDER = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

function sortedBy (object: JsonObject, compare: (a: string, b: string) => number): JsonObject {
  return Object.fromEntries(Object.keys(object).sort(compare).map(key => [key, object[key]]))
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const byMethod = (a: string, b: string) => {
  const [i, j] = [METHOD_ORDER.indexOf(a), METHOD_ORDER.indexOf(b)]
  // Path-level keys (parameters, summary) first, then the methods in the usual order.
  return i === j ? byName(a, b) : i === -1 ? -1 : j === -1 ? 1 : i - j
}

/**
 * Sorts the maps whose order comes from registration (paths, methods, responses, components), and
 * leaves the order of schema properties as written: it is the order people read them in.
 */
export function stableOrder (document: JsonObject): JsonObject {
  const paths = sortedBy((document.paths ?? {}) as JsonObject, byName)
  for (const [path, item] of Object.entries(paths)) {
    const operations = sortedBy(item as JsonObject, byMethod)
    for (const [method, operation] of Object.entries(operations)) {
      const responses = (operation as JsonObject).responses
      if (METHOD_ORDER.includes(method) && responses !== undefined) {
        operations[method] = { ...(operation as JsonObject), responses: sortedBy(responses as JsonObject, byName) }
      }
    }
    paths[path] = operations
  }
  const components = sortedBy((document.components ?? {}) as JsonObject, byName)
  for (const [kind, map] of Object.entries(components)) components[kind] = sortedBy(map as JsonObject, byName)
  return { ...document, paths, components }
}

/** The document as openapi.json holds it: two-space JSON with a final newline. */
export async function buildOpenApiDocument (): Promise<string> {
  // A throwaway key: with none, the app would generate one anyway; it never appears in the document.
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  const app = await buildApp({ config: loadConfig({ ...DOCUMENT_ENV, JWT_PRIVATE_KEY: key }), logger: false })
  try {
    await app.ready()
    const document = JSON.parse(JSON.stringify(app.swagger())) as JsonObject
    return `${JSON.stringify(stableOrder(document), null, 2)}\n`
  } finally {
    await app.close()
  }
}

/** Whether two documents say the same thing: formatting and key order are not differences. */
export function sameDocument (a: string, b: string): boolean {
  try {
    return isDeepStrictEqual(JSON.parse(a), JSON.parse(b))
  } catch {
    return false
  }
}
