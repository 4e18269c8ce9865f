// PUT /api/admin/users/{id}/groups and /permissions: what a user may do, replaced as a whole.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { setUserGroups, setUserPermissions } from '../../../src/admin/users.js'
import { Codename, GroupName, UserParams } from '../../../src/schemas/admin.js'
import { bodyErrors, problems, UNAUTHENTICATED } from '../../../src/schemas/responses.js'
import { AdminUser, ref } from '../../../src/schemas/shared.js'

export const UserGroupsBody = Type.Object({
  groups: Type.Array(GroupName, { maxItems: 200, description: 'The names of every group the user is to belong to; an empty list removes all.' })
}, { additionalProperties: false, examples: [{ groups: ['editors', 'moderators'] }] })

export const UserPermissionsBody = Type.Object({
  permissions: Type.Array(Codename, { maxItems: 500, description: 'Every permission the user is to hold directly (besides its groups\'); an empty list removes all.' })
}, { additionalProperties: false, examples: [{ permissions: ['posts.add', 'users.view'] }] })

const NOT_FOUND: [number, string] = [404, '`not_found`: no such user.']

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.put('/users/:id/groups', {
    schema: {
      operationId: 'setUserGroups',
      summary: 'Replace a user\'s groups',
      description: 'Requires `users.change`. Adding a group hands out its permissions, so the caller must hold every permission of each group added (a superuser holds them all). Takes effect in the user\'s next access token; Portcullis\'s own endpoints see it at once.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      params: UserParams,
      body: UserGroupsBody,
      response: {
        200: { ...ref(AdminUser), description: 'The user with its new groups.' },
        ...problems([400, '`validation_failed`: unknown group names, a malformed id or body.'], ...bodyErrors.slice(1), UNAUTHENTICATED,
          [403, '`permission_denied`: the user lacks `users.change` or a permission of an added group, or the target is a superuser.'],
          NOT_FOUND)
      }
    },
    onRequest: [fastify.authenticate, fastify.requirePermission('users.change')]
  }, async (request) => setUserGroups(fastify.auth, request.principal!, request.params.id, request.body.groups))

  fastify.put('/users/:id/permissions', {
    schema: {
      operationId: 'setUserPermissions',
      summary: 'Replace a user\'s own permissions',
      description: 'Requires `users.change`. The caller must hold every permission it adds (a superuser holds them all). Takes effect in the user\'s next access token; Portcullis\'s own endpoints see it at once.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      params: UserParams,
      body: UserPermissionsBody,
      response: {
        200: { ...ref(AdminUser), description: 'The user with its new permissions.' },
        ...problems([400, '`validation_failed`: unknown codenames, a malformed id or body.'], ...bodyErrors.slice(1), UNAUTHENTICATED,
          [403, '`permission_denied`: the user lacks `users.change` or a permission it tries to grant, or the target is a superuser.'],
          NOT_FOUND)
      }
    },
    onRequest: [fastify.authenticate, fastify.requirePermission('users.change')]
  }, async (request) => setUserPermissions(fastify.auth, request.principal!, request.params.id, request.body.permissions))
}

export default route
