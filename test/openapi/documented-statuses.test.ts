// Every status an operation answers is in its OpenAPI responses: each operation of the document is
// driven with the hostile inputs that produce the refusals made before a route runs (router, body
// parser, validation), authenticated as it requires, and each answer's status must be documented.
import t from 'tap'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { build, bearer } from '../helper.js'
import { loginAs } from '../admin-helper.js'
import { basicOf, makeClient } from '../oauth-helper.js'

interface Parameter { in: string, name: string, schema?: { maxLength?: number } }
interface Operation { responses: Record<string, unknown>, parameters?: Parameter[], security?: Array<Record<string, unknown>> }
interface Input { name: string, params?: (parameter: Parameter) => string, contentType?: string, payload?: string, query?: string }

const BODY_LIMIT = 64 * 1024
/** find-my-way's default maxParamLength. */
const ROUTER_PARAM_LIMIT = 100

const INPUTS: Input[] = [
  { name: 'a path parameter over the router\'s limit', params: () => 'a'.repeat(ROUTER_PARAM_LIMIT + 1) },
  { name: 'a path parameter over its schema\'s maxLength', params: p => 'a'.repeat(Math.min((p.schema?.maxLength ?? ROUTER_PARAM_LIMIT - 1) + 1, ROUTER_PARAM_LIMIT)) },
  { name: 'a path segment that is not percent-encoding', params: () => '%ZZ' },
  { name: 'a NUL in a path parameter', params: () => '%00' },
  { name: 'a text/plain body', contentType: 'text/plain', payload: 'hello' },
  { name: 'a form body', contentType: 'application/x-www-form-urlencoded', payload: 'a=b' },
  { name: 'JSON that does not parse', contentType: 'application/json', payload: '{' },
  { name: 'JSON over the body limit', contentType: 'application/json', payload: JSON.stringify({ a: 'x'.repeat(BODY_LIMIT) }) },
  { name: 'JSON in UTF-16', contentType: 'application/json; charset=utf-16', payload: '{}' },
  { name: 'an unknown query parameter', query: '?unknown_parameter=1' },
  { name: 'a query that is not percent-encoding', query: '?since=%ZZ&q=%ZZ' }
]

function urlFor (path: string, parameters: Parameter[], value: (parameter: Parameter) => string): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => value(parameters.find(p => p.in === 'path' && p.name === name) ?? { in: 'path', name }))
}

t.test('no hostile input gets a status its operation does not document', async t => {
  const app: FastifyInstance = await build(t)
  const admin = await loginAs(app, { superuser: true })
  const client = await makeClient(app)
  await app.ready()
  const document = app.swagger() as unknown as { paths: Record<string, Record<string, Operation>> }

  const undocumented: string[] = []
  let operations = 0
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue
      operations++
      const schemes = (operation.security ?? []).flatMap(entry => Object.keys(entry))
      // Authenticated as the operation asks, so that the refusals under test are not hidden behind a 401.
      const headers: Record<string, string> = schemes.includes('bearerAuth')
        ? bearer(admin.access)
        : schemes.includes('clientBasic') ? basicOf(client) : {}
      const parameters = operation.parameters ?? []
      for (const input of INPUTS) {
        if (input.params !== undefined && !path.includes('{')) continue
        const request: InjectOptions = {
          method: method.toUpperCase() as InjectOptions['method'],
          url: urlFor(path, parameters, input.params ?? (() => 'x')) + (input.query ?? ''),
          headers: { ...headers, ...(input.contentType !== undefined && { 'content-type': input.contentType }) },
          ...(input.payload !== undefined && { payload: input.payload })
        }
        const res = await app.inject(request)
        if (!(String(res.statusCode) in operation.responses)) {
          undocumented.push(`${method.toUpperCase()} ${path}, ${input.name}: ${res.statusCode} ${res.body.slice(0, 120)}`)
        }
        if (res.statusCode >= 500 && res.statusCode !== 503) t.fail(`${method.toUpperCase()} ${path}, ${input.name}: ${res.statusCode}`)
      }
    }
  }
  t.ok(operations > 40, `${operations} operations driven`)
  t.same(undocumented, [], 'every answer is documented')
})

t.test('every operation documents the shared refusals that apply to it', async t => {
  const app = await build(t)
  await app.ready()
  const document = app.swagger() as unknown as { paths: Record<string, Record<string, Operation>> }
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const name = `${method.toUpperCase()} ${path}`
      const expected = [
        ...(path.includes('{') ? ['400', '414'] : []),
        ...(['post', 'put', 'patch', 'delete'].includes(method) ? ['400', '413', '415'] : ['415']),
        ...(name === 'GET /health/live' ? [] : ['503'])
      ]
      for (const status of expected) t.ok(status in operation.responses, `${name} documents ${status}`)
    }
  }
})
