// Schema compilers shared by every app a test process builds. Compiling the routes' validators (ajv)
// and response serializers (fast-json-stringify) is most of the CPU time of building an app, and a
// test file builds many apps from the same schemas: each schema is compiled once per process here.
//
// These are Fastify's own default compilers (the copies Fastify itself loads), with Fastify's
// options, behind a cache keyed by what the compiled function depends on: the schema, the shared
// schemas it may reference and the compiler options, all by value. A compiled validator or
// serializer is a pure function of those, so sharing it between apps changes nothing they do.
import { createRequire } from 'node:module'
import type { FastifyServerOptions } from 'fastify'

const fastifyRequire = createRequire(import.meta.resolve('fastify'))
const ValidatorSelector = fastifyRequire('@fastify/ajv-compiler') as () => (externalSchemas: unknown, options: unknown) => (route: RouteSchema) => unknown
const SerializerSelector = fastifyRequire('@fastify/fast-json-stringify-compiler') as () => (externalSchemas: unknown, options: unknown) => (route: RouteSchema) => unknown

interface RouteSchema { schema: unknown, httpPart?: string }

const validators = ValidatorSelector()
const serializers = SerializerSelector()
const compiled = new Map<string, unknown>()

function shared (kind: string, pick: (externalSchemas: unknown, options: unknown) => (route: RouteSchema) => unknown) {
  return (externalSchemas: unknown, options: unknown) => {
    const context = `${kind}\0${JSON.stringify(externalSchemas)}\0${JSON.stringify(options)}`
    let compile: ((route: RouteSchema) => unknown) | undefined
    return (route: RouteSchema) => {
      if (kind === 'validator' && route.httpPart === 'headers') {
        // Fastify lower-cases a headers schema before its default compiler sees it, and hands it
        // unchanged to a custom one like this: compiled here, header names would match differently.
        throw new Error('test/schema-compilers.ts does not handle headers schemas: lower-case their property names as Fastify does, or compile them without this cache')
      }
      const key = `${context}\0${route.httpPart ?? ''}\0${JSON.stringify(route.schema)}`
      if (!compiled.has(key)) {
        compile ??= pick(externalSchemas, options)
        compiled.set(key, compile(route))
      }
      return compiled.get(key)
    }
  }
}

/** The schemaController option for buildApp: compiled schemas shared across this process's apps. */
export const sharedSchemaCompilers: FastifyServerOptions['schemaController'] = {
  compilersFactory: {
    buildValidator: shared('validator', validators) as any,
    buildSerializer: shared('serializer', serializers) as any
  }
}
