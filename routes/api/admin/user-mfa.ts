// DELETE /api/admin/users/{id}/mfa: removes every second factor of a user who lost them.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { resetUserMfa } from '../../../src/admin/users.js'
import { BAD_ID, UserParams } from '../../../src/schemas/admin.js'
import { problems, UNAUTHENTICATED } from '../../../src/schemas/responses.js'

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.delete('/users/:id/mfa', {
    schema: {
      operationId: 'resetUserMfa',
      summary: 'Remove a user\'s second factors',
      description: 'Requires `users.change` (and being a superuser for a superuser). Removes the authenticator app and the recovery codes, and revokes every session of the user: its next login asks for the password only. For a user who lost its second factor; the user sets up a new one itself.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      params: UserParams,
      response: {
        204: Type.Null({ description: 'Removed (also when the user had none); its sessions are revoked.' }),
        ...problems(BAD_ID, UNAUTHENTICATED,
          [403, '`permission_denied`: the user lacks `users.change`, or the target is a superuser; `mfa_enrolment_required` when MFA_REQUIRED_FOR requires the caller to have a second factor first.'],
          [404, '`not_found`: no such user.'])
      }
    },
    onRequest: [fastify.authenticate, fastify.requirePermission('users.change')]
  }, async (request, reply) => {
    await resetUserMfa(fastify.auth, request.principal!, request.params.id)
    return reply.code(204).send(null)
  })
}

export default route
