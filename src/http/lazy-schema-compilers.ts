// Fastify's own schema compilers (ajv, fast-json-stringify), each route's validator or serializer compiled at its first use.
//
// Compiled at start, the ~60 routes' validators and their serializers (one per declared status) were
// ~10 MiB of the idle server's memory and half of its start-up CPU, most for routes an instance may
// never serve (admin, MFA, social, OAuth). Here a route compiles what it needs on the first request
// that needs it, with the same compilers, shared schemas and options, so every answer is the same; that
// request pays a few milliseconds once. A broken schema then fails its route's requests with a 500
// (the tests build every route) instead of the start.
import { createRequire } from 'node:module'
import type { FastifyServerOptions } from 'fastify'

interface RouteSchema {
  schema: unknown
  httpPart?: string
  method?: string
  url?: string
}

type Compiled = ((...args: unknown[]) => unknown) & { errors?: unknown, schemaEnv?: unknown }
type Compile = (route: RouteSchema) => Compiled
type CompilerFactory = (externalSchemas: unknown, options: unknown) => Compile

// The copies Fastify itself would load (its dependencies, not ours): the same versions, the same answers.
const fastifyRequire = createRequire(import.meta.resolve('fastify'))
const validators = (fastifyRequire('@fastify/ajv-compiler') as () => CompilerFactory)()
const serializers = (fastifyRequire('@fastify/fast-json-stringify-compiler') as () => CompilerFactory)()

function lazyValidators (externalSchemas: unknown, options: unknown): Compile {
  let compiler: Compile | undefined
  return (route) => {
    if (route.httpPart === 'headers') {
      // Fastify lower-cases a headers schema's names only for its default compiler, not for this one:
      // refused at start rather than compiled to match differently.
      throw new Error(`${route.method} ${route.url}: headers schemas are not supported by src/http/lazy-schema-compilers.ts`)
    }
    let compiled: Compiled | undefined
    const validator = (): Compiled => {
      compiled ??= (compiler ??= validators(externalSchemas, options))(route)
      return compiled
    }
    const validate = function (this: unknown, ...args: unknown[]) {
      return Reflect.apply(validator(), this, args)
    } as Compiled
    // Fastify reads `schemaEnv` before the first call (to hand Ajv the value's parent) and `errors`
    // after a failed one: both are the compiled validator's own.
    Object.defineProperty(validate, 'schemaEnv', { get: () => validator().schemaEnv })
    Object.defineProperty(validate, 'errors', { get: () => compiled?.errors })
    return validate
  }
}

function lazySerializers (externalSchemas: unknown, options: unknown): Compile {
  let compiler: Compile | undefined
  return (route) => {
    let compiled: Compiled | undefined
    return (data: unknown) => {
      compiled ??= (compiler ??= serializers(externalSchemas, options))(route)
      return compiled(data)
    }
  }
}

/** buildApp's default schemaController. */
export const lazySchemaCompilers: NonNullable<FastifyServerOptions['schemaController']> = {
  compilersFactory: {
    buildValidator: lazyValidators as never,
    buildSerializer: lazySerializers as never
  }
}
