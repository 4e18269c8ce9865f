import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper.js'

interface Operation {
  operationId?: string
  summary?: string
  tags?: string[]
  security?: Array<Record<string, string[]>>
  requestBody?: { required?: boolean, content: Record<string, { schema: JsonSchema }> }
  responses?: Record<string, { description?: string, content?: Record<string, { schema: JsonSchema }> }>
}

interface JsonSchema {
  $ref?: string
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  additionalProperties?: boolean | JsonSchema
  items?: JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
}

interface OpenApiDocument {
  openapi: string
  info: { title: string, version: string }
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, JsonSchema>, securitySchemes: Record<string, Record<string, string>> }
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

const ADMIN_OPERATIONS = [
  'banUser', 'createClient', 'createGroup', 'createPermission', 'deleteClient', 'deleteGroup', 'deleteUser', 'getGroup',
  'getUser', 'listClients', 'listGroups', 'listPermissions', 'listSigningKeys', 'listUsers', 'rotateSigningKey', 'setUserGroups',
  'setUserPermissions', 'unbanUser', 'updateGroup', 'updateUser', 'resetUserMfa', 'listAuditEvents',
  'createWebhook', 'deleteWebhook', 'getWebhook', 'listWebhookDeliveries', 'listWebhooks', 'retryWebhookDelivery', 'updateWebhook'
].sort()

/** Second factors: enrolment and step-up need an access token; the login's second step does not. */
const MFA_PROTECTED_OPERATIONS = ['confirmTotp', 'deleteTotp', 'enrolTotp', 'getMfa', 'regenerateRecoveryCodes', 'stepUpMfa', 'passkeyCreationOptions', 'registerPasskey', 'renamePasskey', 'deletePasskey']
/** Reached without a token (an mfa_token, or nothing: a passwordless login); webauthnMfaOptions also with one, for a step-up. */
const MFA_OPERATIONS = [...MFA_PROTECTED_OPERATIONS, 'verifyMfa', 'webauthnMfaOptions', 'passkeyLoginOptions', 'passkeyLogin']

/** simplejwt's routes (DJANGO_COMPAT): documented always, under their own tag. */
const DJANGO_OPERATIONS = ['djangoTokenBlacklist', 'djangoTokenObtainPair', 'djangoTokenRefresh', 'djangoTokenVerify']

const SOCIAL_OPERATIONS = ['finishSocialLogin', 'linkSocialAccount', 'listSocialProviders', 'socialLogin', 'startSocialLogin', 'unlinkSocialAccount']

const EXPECTED_OPERATIONS = [
  'changePassword', 'checkPasswordResetToken', 'confirmPasswordReset', 'getAuthorizationServerMetadata', 'getDiscoveryDocument', 'getJwks',
  'getLiveness', 'getMe', 'getReadiness', 'listSessions', 'login', 'logout', 'logoutAll', 'refreshToken',
  'register', 'requestPasswordReset', 'resendVerificationEmail', 'revokeSession', 'updateMe', 'verifyEmail',
  'verifyEmailByLink', 'verifyToken', 'listRevocations', 'oauthToken', 'oauthIntrospect', 'oauthRevoke', ...ADMIN_OPERATIONS, ...SOCIAL_OPERATIONS,
  ...MFA_OPERATIONS, ...DJANGO_OPERATIONS
].sort()

/** The OAuth endpoints take form-encoded bodies too and answer RFC 6749 §5.2 errors, not problem+json. */
const isOAuth = (path: string) => path.startsWith('/oauth/')

/** simplejwt's routes answer DRF's bodies (`{detail, code}`, field errors), not problem+json, and ignore unknown fields as DRF does. */
const isDjango = (path: string) => path.startsWith('/api/token')

const PROTECTED_OPERATIONS = ['changePassword', 'getMe', 'listSessions', 'logoutAll', 'revokeSession', 'updateMe', ...ADMIN_OPERATIONS, 'linkSocialAccount', 'unlinkSocialAccount', ...MFA_PROTECTED_OPERATIONS]

async function openapi (app: FastifyInstance): Promise<OpenApiDocument> {
  const res = await app.inject({ url: '/docs/json' })
  if (res.statusCode !== 200) throw new Error(`GET /docs/json answered ${res.statusCode}`)
  return res.json()
}

function operations (doc: OpenApiDocument): Array<{ method: string, path: string, op: Operation }> {
  const result = []
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (METHODS.includes(method)) result.push({ method, path, op })
    }
  }
  return result
}

/** Follows a `#/components/schemas/X` reference. */
function resolve (doc: OpenApiDocument, schema: JsonSchema): JsonSchema {
  if (schema.$ref === undefined) return schema
  const name = schema.$ref.replace('#/components/schemas/', '')
  const target = doc.components.schemas[name]
  if (target === undefined) throw new Error(`dangling $ref ${schema.$ref}`)
  return resolve(doc, target)
}

/** Every object schema (with properties) reachable from `schema`, with a path for messages. */
function objectSchemas (doc: OpenApiDocument, schema: JsonSchema, at: string, seen = new Set<JsonSchema>()): Array<[string, JsonSchema]> {
  const resolved = resolve(doc, schema)
  if (seen.has(resolved)) return []
  seen.add(resolved)
  const found: Array<[string, JsonSchema]> = []
  if (resolved.type === 'object' || resolved.properties !== undefined) found.push([at, resolved])
  for (const [name, child] of Object.entries(resolved.properties ?? {})) found.push(...objectSchemas(doc, child, `${at}.${name}`, seen))
  if (resolved.items) found.push(...objectSchemas(doc, resolved.items, `${at}[]`, seen))
  for (const child of [...resolved.anyOf ?? [], ...resolved.oneOf ?? [], ...resolved.allOf ?? []]) found.push(...objectSchemas(doc, child, at, seen))
  return found
}

t.test('GET /docs/json is an OpenAPI 3.1 document of the service', async t => {
  const app = await build(t)
  const res = await app.inject({ url: '/docs/json' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const doc = res.json() as OpenApiDocument
  t.match(doc.openapi, /^3\.1\.\d+$/)
  t.equal(doc.info.title, 'Portcullis')
  t.type(doc.info.version, 'string')
  t.ok(Object.keys(doc.paths).length > 0)
})

t.test('every operation has an operationId, a summary, a tag and a 2xx or 4xx response', async t => {
  const app = await build(t)
  const doc = await openapi(app)
  for (const { method, path, op } of operations(doc)) {
    const name = `${method.toUpperCase()} ${path}`
    t.type(op.operationId, 'string', `${name} has an operationId`)
    t.match(op.operationId, /^[a-z][A-Za-z0-9]*$/, `${name} operationId is camelCase`)
    t.type(op.summary, 'string', `${name} has a summary`)
    t.ok(op.summary!.length > 0, `${name} summary is not empty`)
    t.ok(Array.isArray(op.tags) && op.tags.length > 0, `${name} has a tag`)
    const codes = Object.keys(op.responses ?? {})
    t.ok(codes.some(code => /^[24]\d\d$/.test(code)), `${name} declares a 2xx or 4xx response: ${codes.join(', ')}`)
    t.notOk(codes.includes('default'), `${name} lists its status codes instead of a default`)
  }
})

t.test('the operationIds are unique and exactly the contract\'s', async t => {
  const app = await build(t)
  const ids = operations(await openapi(app)).map(({ op }) => op.operationId as string)
  t.equal(new Set(ids).size, ids.length, `no duplicates in ${ids.join(', ')}`)
  t.same(ids.slice().sort(), EXPECTED_OPERATIONS)
})

t.test('every tag used is declared at the top level', async t => {
  const app = await build(t)
  const res = await app.inject({ url: '/docs/json' })
  const declared = new Set((res.json().tags as Array<{ name: string }>).map(tag => tag.name))
  for (const { path, op } of operations(res.json())) {
    for (const tag of op.tags ?? []) t.ok(declared.has(tag), `${path}: tag ${tag} is declared`)
  }
})

t.test('bearerAuth is an http bearer scheme', async t => {
  const app = await build(t)
  const doc = await openapi(app)
  t.match(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer' })
})

t.test('the shared schemas are named components, not def-N', async t => {
  const app = await build(t)
  const doc = await openapi(app)
  const names = Object.keys(doc.components.schemas)
  for (const name of ['User', 'Problem', 'TokenPair', 'LoginResponse']) t.ok(names.includes(name), `${name} is a component`)
  t.notOk(names.some(name => /^def-\d+$/.test(name)), `no anonymous components in ${names.join(', ')}`)
  const user = resolve(doc, doc.components.schemas.User)
  t.same(Object.keys(user.properties ?? {}).sort(), [
    'date_joined', 'email', 'email_verified', 'groups', 'id', 'is_active', 'is_staff', 'is_superuser',
    'last_login', 'permissions', 'providers', 'username'
  ])
  const problem = resolve(doc, doc.components.schemas.Problem)
  for (const field of ['type', 'title', 'status', 'code', 'detail', 'errors']) t.ok(problem.properties?.[field], `Problem has ${field}`)
})

t.test('protected operations declare bearerAuth and a 401 response', async t => {
  const app = await build(t)
  const byId = new Map(operations(await openapi(app)).map(({ op }) => [op.operationId, op]))
  for (const id of PROTECTED_OPERATIONS) {
    const op = byId.get(id)
    t.ok(op, `${id} exists`)
    t.same(op?.security, [{ bearerAuth: [] }], `${id} requires bearerAuth`)
    t.ok(op?.responses?.['401'], `${id} documents 401`)
  }
  for (const id of ['register', 'login', 'getJwks', 'getLiveness']) {
    const security = byId.get(id)?.security
    t.notOk(security?.some(requirement => 'bearerAuth' in requirement), `${id} is public`)
  }
})

t.test('every error response is application/problem+json with the Problem schema', async t => {
  const app = await build(t)
  const doc = await openapi(app)
  let checked = 0
  for (const { method, path, op } of operations(doc)) {
    for (const [code, response] of Object.entries(op.responses ?? {})) {
      if (Number(code) < 400) continue
      const name = `${method.toUpperCase()} ${path} ${code}`
      if (isOAuth(path)) {
        t.same(Object.keys(response.content?.['application/json']?.schema.properties ?? {}), ['error', 'error_description'], `${name} is an RFC 6749 error`)
        continue
      }
      // Their 404 (DJANGO_COMPAT off) is the service's own: problem+json.
      if (isDjango(path) && code !== '404') {
        t.same(Object.keys(response.content ?? {}), ['application/json'], `${name} is DRF's JSON`)
        continue
      }
      t.same(Object.keys(response.content ?? {}), ['application/problem+json'], `${name} is problem+json only`)
      t.equal(response.content?.['application/problem+json']?.schema.$ref, '#/components/schemas/Problem', `${name} is a Problem`)
      checked++
    }
  }
  t.ok(checked >= 20, `checked ${checked} error responses`)
})

t.test('operations with a JSON body document 400, 413 and 415', async t => {
  const app = await build(t)
  for (const { method, path, op } of operations(await openapi(app))) {
    if (op.requestBody === undefined) continue
    for (const code of ['400', '413', '415']) t.ok(op.responses?.[code], `${method.toUpperCase()} ${path} documents ${code}`)
  }
})

t.test('no request body schema accepts unknown fields', async t => {
  const app = await build(t)
  const doc = await openapi(app)
  let bodies = 0
  for (const { method, path, op } of operations(doc)) {
    if (op.requestBody === undefined) continue
    if (isOAuth(path)) {
      // RFC 6749 §3.2: unknown parameters are ignored there, not refused.
      t.same(Object.keys(op.requestBody.content).sort(), ['application/json', 'application/x-www-form-urlencoded'], `${path} takes forms and JSON`)
      continue
    }
    if (isDjango(path)) continue
    bodies++
    t.same(Object.keys(op.requestBody.content), ['application/json'], `${path} takes JSON`)
    for (const [, media] of Object.entries(op.requestBody.content)) {
      const objects = objectSchemas(doc, media.schema, `${method.toUpperCase()} ${path}`)
      t.ok(objects.length > 0, `${path} has an object body`)
      for (const [at, schema] of objects) t.equal(schema.additionalProperties, false, `${at} is closed`)
    }
  }
  t.equal(bodies, 32, 'register, login, refresh, verify, logout, password change, PATCH me, verify-email, resend, reset and reset confirm take a body, eleven admin operations (two of them webhooks), social login and link, three of the second factor (confirm, verify, step-up) and five of passkeys (register, rename, login options, login, second-factor options)')
})

t.test('the optional bodies of refresh and logout are not marked required', async t => {
  const app = await build(t)
  const byId = new Map(operations(await openapi(app)).map(({ op }) => [op.operationId, op]))
  // Browsers send the refresh cookie and no body: a generated client must not be forced to send one.
  t.equal(byId.get('refreshToken')?.requestBody?.required, false)
  t.equal(byId.get('logout')?.requestBody?.required, false)
  t.equal(byId.get('banUser')?.requestBody?.required, false, 'a ban needs neither reason nor end')
  t.equal(byId.get('login')?.requestBody?.required, true)
  const noBody = await app.inject({ method: 'POST', url: '/api/auth/logout' })
  t.equal(noBody.statusCode, 204, 'logout without a body works, as documented')
})

t.test('the admin operations are tagged admin, name their permission and document 401 and 403', async t => {
  const app = await build(t)
  const doc = await openapi(app)
  const admin = operations(doc).filter(({ path }) => path.startsWith('/api/admin/'))
  t.same(admin.map(({ op }) => op.operationId).sort(), ADMIN_OPERATIONS)
  for (const { method, path, op } of admin) {
    const name = `${method.toUpperCase()} ${path}`
    t.same(op.tags, ['admin'], `${name} is tagged admin`)
    // The key endpoints have no permission of their own: only a superuser rotates the signing key.
    t.match((op as { description?: string }).description, /Requires `[a-z]+\.[a-z]+`|^Superusers only\./, `${name} names its permission, or that only superusers may`)
    for (const code of ['401', '403']) t.ok(op.responses?.[code], `${name} documents ${code}`)
    if (path.includes('{id}')) t.ok(op.responses?.['404'], `${name} documents 404`)
  }
  for (const name of ['AdminUser', 'UserPage', 'Group', 'Permission']) t.ok(doc.components.schemas[name], `${name} is a component`)
  const adminUser = resolve(doc, doc.components.schemas.AdminUser)
  for (const field of ['is_banned', 'ban_reason', 'banned_until', 'email', 'permissions']) t.ok(adminUser.properties?.[field], `AdminUser has ${field}`)
  const list = doc.paths['/api/admin/users'].get as Operation & { parameters: Array<{ name: string, in: string, schema: JsonSchema }> }
  t.same(list.parameters.map(p => `${p.in}:${p.name}`).sort(), ['query:cursor', 'query:limit', 'query:q'])
  t.equal(list.parameters.find(p => p.name === 'limit')?.schema.type, 'integer', 'limit is documented as an integer')
})

t.test('GET /docs serves the Swagger UI as HTML', async t => {
  const app = await build(t)
  let res = await app.inject({ url: '/docs' })
  if (res.statusCode >= 300 && res.statusCode < 400) {
    const location = String(res.headers.location)
    t.match(location, /\/docs/)
    res = await app.inject({ url: new URL(location, 'http://portcullis.test/docs/').pathname })
  }
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html/)
  t.match(res.body, /swagger-ui/i)
})

t.test('servers: relative (Try it out goes to the address the docs were opened at) unless PUBLIC_URL is set', async t => {
  const unset = await build(t, {}, { env: { PUBLIC_URL: '' } })
  t.same((await openapi(unset) as unknown as { servers: unknown }).servers, [{ url: '/', description: 'The server this document was fetched from.' }])
  const set = await build(t, {}, { env: { PUBLIC_URL: 'https://auth.example.com' } })
  t.same((await openapi(set) as unknown as { servers: unknown }).servers, [{ url: 'https://auth.example.com' }])
})

t.test('refresh and logout: the pre-filled (first) body example is {}, so a browser\'s cookie is not shadowed by a sample token', async t => {
  const app = await build(t)
  const byId = new Map(operations(await openapi(app)).map(({ op }) => [op.operationId, op]))
  for (const id of ['refreshToken', 'logout']) {
    const media = byId.get(id)?.requestBody?.content['application/json'] as { examples?: Record<string, { value: unknown }> } | undefined
    const examples = Object.values(media?.examples ?? {}).map(example => example.value)
    t.same(examples[0], {}, `${id}: Swagger UI pre-fills {}`)
    t.ok(examples.some(value => typeof (value as { refresh?: unknown }).refresh === 'string'), `${id}: the body form is still shown, as a further example`)
  }
})

t.test('DOCS_ENABLED=false: no Swagger UI and no document at /docs; the API is unaffected', async t => {
  const app = await build(t, {}, { env: { DOCS_ENABLED: 'false' } })
  for (const url of ['/docs', '/docs/', '/docs/json', '/docs/yaml', '/docs/static/index.html']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 404, `${url} is 404`)
    t.equal(res.json().code, 'not_found')
  }
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200)
  t.equal((app.swagger() as { openapi: string }).openapi, '3.1.0', 'the document is still built (npm run openapi)')
})
