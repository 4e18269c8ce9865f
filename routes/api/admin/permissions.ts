// /api/admin/permissions: the codenames groups and users can be given.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createPermission, listPermissions } from '../../../src/admin/groups.js'
import { Codename } from '../../../src/schemas/admin.js'
import { bodyErrors, PERMISSION_DENIED, problems, UNAUTHENTICATED } from '../../../src/schemas/responses.js'
import { ref } from '../../../src/schemas/shared.js'

export const Permission = Type.Object({
  codename: Type.String({ description: '`<area>.<action>`, unique.', examples: ['posts.add'] }),
  description: Type.String({ description: 'What it allows, for people.', examples: ['Can add posts'] })
}, { $id: 'Permission', additionalProperties: false, description: 'A permission that users and groups can hold.' })

export const CreatePermissionBody = Type.Object({
  codename: Codename,
  description: Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\p{Cc}]+$', description: 'What it allows, for people: one line, no control characters.', examples: ['Can add posts'] })
}, { additionalProperties: false, examples: [{ codename: 'posts.add', description: 'Can add posts' }] })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.addSchema(Permission)

  fastify.get('/permissions', {
    schema: {
      operationId: 'listPermissions',
      summary: 'List the permissions',
      description: 'Requires `groups.manage`. Includes the built-in permissions of the admin API.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      response: {
        200: Type.Array(ref(Permission), { description: 'Every permission, by codename.' }),
        ...problems(UNAUTHENTICATED, PERMISSION_DENIED)
      }
    },
    onRequest: [fastify.authenticate, fastify.requirePermission('groups.manage')]
  }, async () => listPermissions(fastify.auth))

  fastify.post('/permissions', {
    schema: {
      operationId: 'createPermission',
      summary: 'Create a permission',
      description: 'Requires `groups.manage`. A new permission is held by nobody but superusers until it is granted.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      body: CreatePermissionBody,
      response: {
        201: { ...ref(Permission), description: 'The new permission.' },
        ...problems(...bodyErrors, UNAUTHENTICATED, PERMISSION_DENIED, [409, '`permission_exists`: a permission with this codename exists.'])
      }
    },
    onRequest: [fastify.authenticate, fastify.requirePermission('groups.manage')]
  }, async (request, reply) => reply.code(201).send(await createPermission(fastify.auth, request.body)))
}

export default route
