// Every operation's request and response schemas carry examples, so Swagger UI shows real-looking
// values (it samples `examples[0]` of OpenAPI 3.1 schemas) rather than "string".
import t from 'tap'
import { build } from '../helper.js'

interface Schema {
  $ref?: string
  type?: string | string[]
  format?: string
  properties?: Record<string, Schema>
  items?: Schema
  anyOf?: Schema[]
  oneOf?: Schema[]
  allOf?: Schema[]
  examples?: unknown[]
  example?: unknown
  default?: unknown
  const?: unknown
  enum?: unknown[]
}

interface Parameter { in: string, name: string, schema?: Schema, examples?: object, example?: unknown }
interface Content { [mediaType: string]: { schema?: Schema, examples?: object, example?: unknown } }
interface Operation {
  operationId: string
  parameters?: Parameter[]
  requestBody?: { content: Content }
  responses: Record<string, { content?: Content }>
}
interface Document { paths: Record<string, Record<string, Operation>>, components: { schemas: Record<string, Schema> } }

/** Formats Swagger UI fills in with a plausible value of its own. */
const SAMPLED_FORMATS = new Set(['date-time', 'date', 'email', 'uri', 'uuid'])

/** The places under `schema` where Swagger UI would show a bare type instead of an example. */
function gaps (document: Document, schema: Schema | undefined, at: string, seen = new Set<Schema>()): string[] {
  while (schema?.$ref !== undefined) schema = document.components.schemas[schema.$ref.split('/').pop()!]
  if (schema === undefined || seen.has(schema)) return []
  const path = new Set(seen).add(schema)
  if ((schema.examples?.length ?? 0) > 0 || ['example', 'default', 'const'].some(key => key in schema) || schema.enum !== undefined) return []
  const branches = schema.anyOf ?? schema.oneOf ?? schema.allOf
  if (branches !== undefined) return branches.flatMap(branch => gaps(document, branch, at, path))
  const types = [schema.type].flat()
  if (types.includes('object') || schema.properties !== undefined) {
    return Object.entries(schema.properties ?? {}).flatMap(([name, child]) => gaps(document, child, `${at}.${name}`, path))
  }
  if (types.includes('array')) return gaps(document, schema.items, `${at}[]`, path)
  return types.includes('string') && !SAMPLED_FORMATS.has(schema.format ?? '') ? [at] : []
}

/** @fastify/swagger moves a body's or a response's `examples` up to the media type, where Swagger UI lists them. */
function contentGaps (document: Document, content: Content | undefined, at: string): string[] {
  return Object.entries(content ?? {})
    .filter(([, media]) => media.examples === undefined && media.example === undefined)
    .flatMap(([type, media]) => gaps(document, media.schema, `${at} ${type}`))
}

t.test('every request body, parameter and response of every operation has examples', async t => {
  const app = await build(t)
  const document = (await app.inject({ url: '/docs/json' })).json() as Document
  let operations = 0
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item)) {
      operations++
      const missing = [
        ...(operation.parameters ?? [])
          .filter(parameter => parameter.examples === undefined && parameter.example === undefined)
          .flatMap(parameter => gaps(document, parameter.schema, `${parameter.in} ${parameter.name}`)),
        ...contentGaps(document, operation.requestBody?.content, 'body'),
        ...Object.entries(operation.responses).flatMap(([status, response]) => contentGaps(document, response.content, status))
      ]
      t.same(missing, [], `${operation.operationId}: examples everywhere`)
    }
  }
  t.ok(operations > 40, `${operations} operations checked`)
})
