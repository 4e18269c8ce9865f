// /api/admin/groups: named sets of permissions that users can be put in.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createGroup, deleteGroup, getGroup, listGroups, updateGroup } from '../../../src/admin/groups.js'
import { BAD_ID, Codename, GroupName, GroupParams } from '../../../src/schemas/admin.js'
import { bodyErrors, PERMISSION_DENIED, problems, UNAUTHENTICATED } from '../../../src/schemas/responses.js'
import { ref } from '../../../src/schemas/shared.js'

export const Group = Type.Object({
  id: Type.String({ description: 'Opaque, stable id.', examples: ['3b0c7a52-5d0e-4c43-9d8e-6b7f4e2a9c10'] }),
  name: Type.String({ description: 'Unique name.', examples: ['editors'] }),
  permissions: Type.Array(Type.String(), { description: 'The codenames its members get, sorted.', examples: [['posts.add', 'posts.change']] })
}, { $id: 'Group', additionalProperties: false, description: 'A group: its members hold its permissions.' })

const GroupPermissions = Type.Array(Codename, { maxItems: 500, description: 'Codenames of existing permissions; the caller must hold each one it adds.' })

export const CreateGroupBody = Type.Object({
  name: GroupName,
  permissions: Type.Optional(GroupPermissions)
}, { additionalProperties: false, examples: [{ name: 'editors', permissions: ['posts.add', 'posts.change'] }] })

export const UpdateGroupBody = Type.Object({
  name: Type.Optional(GroupName),
  permissions: Type.Optional({ ...GroupPermissions, description: 'Replaces the group\'s permissions as a whole. ' + GroupPermissions.description })
}, { additionalProperties: false, examples: [{ name: 'senior-editors' }, { permissions: ['posts.add'] }] })

const NOT_FOUND: [number, string] = [404, '`not_found`: no such group.']
const ESCALATION: [number, string] = [403, '`permission_denied`: the user lacks `groups.manage`, or a permission it tries to put in the group.']
const GROUP_EXISTS: [number, string] = [409, '`group_exists`: another group has this name.']
const UNKNOWN_PERMISSIONS: [number, string] = [400, '`validation_failed`: unknown permission codenames, or a malformed id or body.']

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.addSchema(Group)
  const guard = [fastify.authenticate, fastify.requirePermission('groups.manage')]

  fastify.get('/groups', {
    schema: {
      operationId: 'listGroups',
      summary: 'List the groups',
      description: 'Requires `groups.manage`.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      response: {
        200: Type.Array(ref(Group), { description: 'Every group, by name.' }),
        ...problems(UNAUTHENTICATED, PERMISSION_DENIED)
      }
    },
    onRequest: guard
  }, async () => listGroups(fastify.auth))

  fastify.post('/groups', {
    schema: {
      operationId: 'createGroup',
      summary: 'Create a group',
      description: 'Requires `groups.manage`, and holding every permission put in the group (a group is a way to hand them out).',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      body: CreateGroupBody,
      response: {
        201: { ...ref(Group), description: 'The new group.' },
        ...problems(UNKNOWN_PERMISSIONS, ...bodyErrors.slice(1), UNAUTHENTICATED, ESCALATION, GROUP_EXISTS)
      }
    },
    onRequest: guard
  }, async (request, reply) => reply.code(201).send(await createGroup(fastify.auth, request.principal!, request.body)))

  fastify.get('/groups/:id', {
    schema: {
      operationId: 'getGroup',
      summary: 'One group',
      description: 'Requires `groups.manage`.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      params: GroupParams,
      response: {
        200: { ...ref(Group), description: 'The group.' },
        ...problems(BAD_ID, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND)
      }
    },
    onRequest: guard
  }, async (request) => getGroup(fastify.auth, request.params.id))

  fastify.patch('/groups/:id', {
    schema: {
      operationId: 'updateGroup',
      summary: 'Rename a group or replace its permissions',
      description: 'Requires `groups.manage`, and holding every permission added to the group. Members get the change in their next access token; Portcullis\'s own endpoints see it at once.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      params: GroupParams,
      body: UpdateGroupBody,
      response: {
        200: { ...ref(Group), description: 'The updated group.' },
        ...problems(UNKNOWN_PERMISSIONS, ...bodyErrors.slice(1), UNAUTHENTICATED, ESCALATION, NOT_FOUND, GROUP_EXISTS)
      }
    },
    onRequest: guard
  }, async (request) => updateGroup(fastify.auth, request.principal!, request.params.id, request.body))

  fastify.delete('/groups/:id', {
    schema: {
      operationId: 'deleteGroup',
      summary: 'Delete a group',
      description: 'Requires `groups.manage`. Its members lose the permissions they held through it.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      params: GroupParams,
      response: {
        204: Type.Null({ description: 'Deleted.' }),
        ...problems(BAD_ID, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND)
      }
    },
    onRequest: guard
  }, async (request, reply) => {
    await deleteGroup(fastify.auth, request.params.id)
    return reply.code(204).send(null)
  })
}

export default route
