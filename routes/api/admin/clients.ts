// /api/admin/clients: service clients for the client credentials grant; the secret is shown once.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { BAD_ID } from '../../../src/schemas/admin.js'
import { bodyErrors, PERMISSION_DENIED, problems, UNAUTHENTICATED } from '../../../src/schemas/responses.js'
import { nullable } from '../../../src/schemas/shared.js'
import { MAX_SCOPE_LENGTH, MAX_SCOPES, SCOPE_TOKEN_PATTERN } from '../../../src/oauth/scopes.js'
import { createClient, deleteClient, listClients } from '../../../src/oauth/service-clients.js'

export const Scope = Type.String({
  minLength: 1,
  maxLength: MAX_SCOPE_LENGTH,
  pattern: SCOPE_TOKEN_PATTERN,
  description: `A scope-token (RFC 6749 §3.3): 1 to ${MAX_SCOPE_LENGTH} printable ASCII characters, no space, \`"\` or \`\\\`.`,
  examples: ['orders.read']
})

export const CreateClientBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 150, pattern: '^[^\\p{C}]+$', description: 'For people: 1 to 150 characters, no control or invisible formatting characters. Need not be unique.', examples: ['billing-service'] }),
  scopes: Type.Array(Scope, { maxItems: MAX_SCOPES, uniqueItems: true, description: `The scopes the client may request, at most ${MAX_SCOPES}, no duplicates; may be empty (a client that only reads the revocation feed or introspects).` })
}, { additionalProperties: false, examples: [{ name: 'billing-service', scopes: ['orders.read', 'invoices.write'] }] })

const clientFields = {
  client_id: Type.String({ description: 'The client id: the `sub` and `client_id` of its tokens.', examples: ['0f8e2b1c-3c57-4b4e-9a61-5b1f0c2d7e90'] }),
  name: Type.String({ description: 'For people.', examples: ['billing-service'] }),
  scopes: Type.Array(Type.String(), { description: 'The scopes it may request, sorted.', examples: [['invoices.write', 'orders.read']] }),
  created_at: Type.String({ format: 'date-time', description: 'When it was registered.' }),
  last_used_at: nullable(Type.String({ format: 'date-time', description: 'The last time it authenticated (to the minute), or null.' }))
}

export const Client = Type.Object(clientFields, { $id: 'ServiceClient', additionalProperties: false, description: 'A registered service client. Its secret is never shown again.' })

export const NewClient = Type.Object({
  ...clientFields,
  client_secret: Type.String({ description: 'The secret: shown in this answer only (only its hash is stored). Keep it like a password.', examples: ['mF3x0bq9r2Zy4V8kQe1LwTn5sJ7uHc6pAo_dGi-XRtY'] })
}, { additionalProperties: false })

const ClientParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, description: 'The client id.', examples: ['0f8e2b1c-3c57-4b4e-9a61-5b1f0c2d7e90'] })
})

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.addSchema(Client)
  const guard = [fastify.authenticate, fastify.requirePermission('clients.manage')]

  fastify.post('/clients', {
    schema: {
      operationId: 'createClient',
      summary: 'Register a service client',
      description: 'Requires `clients.manage`. The answer is the only place the secret ever appears.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      body: CreateClientBody,
      response: {
        201: { ...NewClient, description: 'The new client, with its secret (shown once).' },
        ...problems(...bodyErrors, UNAUTHENTICATED, PERMISSION_DENIED)
      }
    },
    onRequest: guard
  }, async (request, reply) => reply.code(201).header('cache-control', 'no-store').send(await createClient(fastify.auth, request.body)))

  fastify.get('/clients', {
    schema: {
      operationId: 'listClients',
      summary: 'List the service clients',
      description: 'Requires `clients.manage`. Secrets are not shown.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      response: {
        200: Type.Array(Type.Unsafe(Type.Ref('ServiceClient')), { description: 'Every client, oldest first.' }),
        ...problems(UNAUTHENTICATED, PERMISSION_DENIED)
      }
    },
    onRequest: guard
  }, async () => listClients(fastify.auth))

  fastify.delete('/clients/:id', {
    schema: {
      operationId: 'deleteClient',
      summary: 'Delete a service client',
      description: 'Requires `clients.manage`. Its tokens stop working at once (introspection answers `active: false`, the revocation feed names the client id as a `sub`).',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      params: ClientParams,
      response: {
        204: Type.Null({ description: 'Deleted.' }),
        ...problems(BAD_ID, UNAUTHENTICATED, PERMISSION_DENIED, [404, '`not_found`: no such client.'])
      }
    },
    onRequest: guard
  }, async (request, reply) => {
    await deleteClient(fastify.auth, request.params.id)
    return reply.code(204).send(null)
  })
}

export default route
