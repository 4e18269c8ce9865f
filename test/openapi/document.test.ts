// openapi.json's generator: the same routes give the same bytes, and only real differences count.
import t from 'tap'
import { buildOpenApiDocument, sameDocument, stableOrder } from '../../scripts/openapi-document.js'

t.test('two generations are byte for byte the same, and lint-relevant parts are in place', async t => {
  const [first, second] = [await buildOpenApiDocument(), await buildOpenApiDocument()]
  t.equal(first, second)
  t.ok(first.endsWith('}\n'))
  const document = JSON.parse(first)
  t.same(document.servers.map((server: { url: string }) => server.url), ['/'], 'relative to where it was fetched, not the environment\'s PUBLIC_URL')
  t.same(Object.keys(document.paths), Object.keys(document.paths).sort(), 'paths in order')
  t.same(document.paths['/health/live'].get.security, [], 'public operations say so')
})

t.test('stableOrder sorts paths, methods, responses and components, not schema properties', async t => {
  const sorted = stableOrder({
    openapi: '3.1.0',
    paths: { '/b': { post: { responses: { 404: {}, 200: {} } }, get: {}, parameters: [] }, '/a': {} },
    components: { schemas: { User: { properties: { z: {}, a: {} } }, Problem: {} } }
  })
  t.same(Object.keys(sorted.paths as object), ['/a', '/b'])
  const b = (sorted.paths as Record<string, Record<string, { responses?: object }>>)['/b']
  t.same(Object.keys(b), ['parameters', 'get', 'post'])
  t.same(Object.keys(b.post.responses!), ['200', '404'])
  const schemas = (sorted.components as Record<string, Record<string, { properties?: object }>>).schemas
  t.same(Object.keys(schemas), ['Problem', 'User'])
  t.same(Object.keys(schemas.User.properties!), ['z', 'a'])
})

t.test('sameDocument ignores formatting and key order, and nothing else', async t => {
  t.ok(sameDocument('{"a":1,"b":[1,2]}', '{\n  "b": [1, 2],\n  "a": 1\n}\n'))
  t.notOk(sameDocument('{"b":[1,2]}', '{"b":[2,1]}'))
  t.notOk(sameDocument('{"a":1}', '{"a":"1"}'))
  t.notOk(sameDocument('', '{}'), 'a missing file is out of date')
})
