// POST /api/admin/users/{id}/ban and /unban: shut a user out, for a while or for good, and let them back in.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { banUser, unbanUser } from '../../../src/admin/users.js'
import { emptyBodyAsObject } from '../../../src/http/optional-body.js'
import { BAD_ID, UserParams } from '../../../src/schemas/admin.js'
import { problems, TOO_LARGE, UNAUTHENTICATED, UNSUPPORTED } from '../../../src/schemas/responses.js'
import { AdminUser, ref } from '../../../src/schemas/shared.js'

export const BanBody = Type.Object({
  reason: Type.Optional(Type.String({ maxLength: 500, description: 'Why, for staff; shown as `ban_reason`. Never shown to the banned user.' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'When the ban ends (must be in the future); leave out for a ban without end.' }))
}, {
  additionalProperties: false,
  description: 'Optional: a bodiless request bans without end and without a reason.',
  examples: [{ reason: 'Spam', until: '2030-01-01T00:00:00Z' }, { reason: 'Abuse of other users' }]
})

const NOT_FOUND: [number, string] = [404, '`not_found`: no such user.']
const DENIED: [number, string] = [403, '`permission_denied`: the user lacks `users.ban`, or the target is a superuser.']

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/users/:id/ban', {
    schema: {
      operationId: 'banUser',
      summary: 'Ban a user',
      description: 'Requires `users.ban` (and being a superuser to ban a superuser). Revokes every refresh token of the user at once; its unexpired access tokens are refused by Portcullis (`user_inactive`) and its logins answer `account_banned`. A ban with `until` ends by itself. Banning a banned user replaces the ban.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      params: UserParams,
      body: BanBody,
      response: {
        200: { ...ref(AdminUser), description: 'The banned user.' },
        ...problems([400, '`validation_failed`: a malformed id or body, a reason over 500 characters, or an `until` that is not in the future.'],
          TOO_LARGE, UNSUPPORTED, UNAUTHENTICATED, DENIED, NOT_FOUND)
      }
    },
    onRequest: [fastify.authenticate, fastify.requirePermission('users.ban')],
    preValidation: emptyBodyAsObject
  }, async (request) => {
    const { reason, until } = request.body
    return banUser(fastify.auth, request.principal!, request.params.id, { reason, until: until === undefined ? undefined : new Date(until) })
  })

  fastify.post('/users/:id/unban', {
    schema: {
      operationId: 'unbanUser',
      summary: 'Lift a user\'s ban',
      description: 'Requires `users.ban`. The user may log in again; the sessions the ban revoked stay revoked. Idempotent.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      params: UserParams,
      response: {
        200: { ...ref(AdminUser), description: 'The user, no longer banned.' },
        ...problems(BAD_ID, UNAUTHENTICATED, DENIED, NOT_FOUND)
      }
    },
    onRequest: [fastify.authenticate, fastify.requirePermission('users.ban')]
  }, async (request) => unbanUser(fastify.auth, request.principal!, request.params.id))
}

export default route
