// GET /api/admin/users, GET/PATCH/DELETE /api/admin/users/{id}: staff view and change user accounts.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { deleteUser, getUser, listUsers, updateUser } from '../../../src/admin/users.js'
import { integerQuery } from '../../../src/http/query-integers.js'
import { BAD_ID, UserParams } from '../../../src/schemas/admin.js'
import { Username } from '../../../src/schemas/fields.js'
import { bodyErrors, PERMISSION_DENIED, problems, UNAUTHENTICATED } from '../../../src/schemas/responses.js'
import { AdminUser, nullable, ref } from '../../../src/schemas/shared.js'

const DEFAULT_PAGE_SIZE = 50

// Closed, unlike a mail link's query: a misspelt filter (`?query=ada`) must not quietly list everyone.
export const ListUsersQuery = Type.Object({
  // No control characters: SQLite's LIKE stops at a NUL, so `q=%00` would match everyone.
  q: Type.Optional(Type.String({ maxLength: 254, pattern: '^[^\\p{Cc}]*$', description: 'Case-insensitive substring of the email or the username; `%` and `_` match themselves; no control characters.', examples: ['ada'] })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: DEFAULT_PAGE_SIZE, description: 'Page size, 1 to 200.' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The `next_cursor` of the previous page; leave out for the first page.', examples: ['MjAyNi0xMS0yMVQxOTowMDowMC4wMDBafDdmMWM'] }))
}, { additionalProperties: false })

export const UserPage = Type.Object({
  items: Type.Array(ref(AdminUser), { description: 'Users, newest first.' }),
  next_cursor: nullable(Type.String({ description: 'Pass as `cursor` for the next page; null on the last page.', examples: ['MjAyNi0xMS0yMVQxOTowMDowMC4wMDBafDdmMWM'] }))
}, { $id: 'UserPage', additionalProperties: false, description: 'One page of users.' })

export const UpdateUserBody = Type.Object({
  is_active: Type.Optional(Type.Boolean({ description: 'False disables the account and revokes all its sessions.' })),
  is_staff: Type.Optional(Type.Boolean({ description: 'May use staff tools.' })),
  is_superuser: Type.Optional(Type.Boolean({ description: 'Has every permission. Only a superuser may grant or remove it.' })),
  email_verified: Type.Optional(Type.Boolean({ description: 'Mark the email address as verified, or not.' })),
  username: Type.Optional(Username)
}, { additionalProperties: false, examples: [{ is_staff: true }, { is_active: false }, { username: 'ada_lovelace', email_verified: true }] })

const NOT_FOUND: [number, string] = [404, '`not_found`: no such user.']

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.addSchema(UserPage)

  fastify.get('/users', {
    schema: {
      operationId: 'listUsers',
      summary: 'List and search users',
      description: 'Requires `users.view`. Newest first, a page at a time: follow `next_cursor` until it is null.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      querystring: ListUsersQuery,
      response: {
        200: { ...ref(UserPage), description: 'A page of users.' },
        ...problems([400, '`validation_failed`: a malformed `limit` or `cursor`, or an unknown parameter.'], UNAUTHENTICATED, PERMISSION_DENIED)
      }
    },
    onRequest: [fastify.authenticate, fastify.requirePermission('users.view')],
    preValidation: integerQuery('limit')
  }, async (request) => {
    const { q, limit, cursor } = request.query
    return listUsers(fastify.auth, { q, limit: limit ?? DEFAULT_PAGE_SIZE, cursor })
  })

  fastify.get('/users/:id', {
    schema: {
      operationId: 'getUser',
      summary: 'One user, with its ban',
      description: 'Requires `users.view`.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      params: UserParams,
      response: {
        200: { ...ref(AdminUser), description: 'The user.' },
        ...problems(BAD_ID, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND)
      }
    },
    onRequest: [fastify.authenticate, fastify.requirePermission('users.view')]
  }, async (request) => getUser(fastify.auth, request.params.id))

  fastify.patch('/users/:id', {
    schema: {
      operationId: 'updateUser',
      summary: 'Change a user\'s flags or username',
      description: 'Requires `users.change`. Only a superuser may grant or remove `is_superuser`, or change a superuser. Deactivating a user revokes all its sessions.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      params: UserParams,
      body: UpdateUserBody,
      response: {
        200: { ...ref(AdminUser), description: 'The updated user.' },
        ...problems(...bodyErrors, UNAUTHENTICATED,
          [403, '`permission_denied`: the user lacks `users.change`, or only a superuser may make this change.'],
          NOT_FOUND, [409, '`username_taken`.'])
      }
    },
    onRequest: [fastify.authenticate, fastify.requirePermission('users.change')]
  }, async (request) => updateUser(fastify.auth, request.principal!, request.params.id, request.body))

  fastify.delete('/users/:id', {
    schema: {
      operationId: 'deleteUser',
      summary: 'Delete a user',
      description: 'Requires `users.delete` (and being a superuser to delete a superuser). The user\'s sessions, tokens, group memberships and permissions go with it; its access tokens stop working here at once.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      params: UserParams,
      response: {
        204: Type.Null({ description: 'Deleted.' }),
        ...problems(BAD_ID, UNAUTHENTICATED,
          [403, '`permission_denied`: the user lacks `users.delete`, or the target is a superuser.'],
          NOT_FOUND)
      }
    },
    onRequest: [fastify.authenticate, fastify.requirePermission('users.delete')]
  }, async (request, reply) => {
    await deleteUser(fastify.auth, request.principal!, request.params.id)
    return reply.code(204).send(null)
  })
}

export default route
