// POST /api/auth/password/change: new password after proving the current one; other sessions end.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { changePassword } from '../../../../src/accounts/accounts.js'
import { NewPassword, Password } from '../../../../src/schemas/fields.js'
import { BUSY, bodyErrors, problems, STEP_UP } from '../../../../src/schemas/responses.js'
import { clientInfo } from '../../../../src/http/client-info.js'

export const ChangePasswordBody = Type.Object({
  current_password: Password,
  new_password: NewPassword
}, { additionalProperties: false, examples: [{ current_password: 'correct horse battery', new_password: 'battery staple horse' }] })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/change', {
    schema: {
      operationId: 'changePassword',
      summary: 'Change the password',
      description: 'Checks the current password, sets the new one, and revokes every other session of the user (this one stays signed in). A wrong current password counts against the account\'s login limit, as a failed login does. A user with a second factor needs an `aal2` token (see `POST /api/auth/mfa/step-up`).',
      tags: ['account'],
      security: [{ bearerAuth: [] }],
      body: ChangePasswordBody,
      response: {
        204: Type.Null({ description: 'Changed.' }),
        ...problems(...bodyErrors, STEP_UP, [403, '`invalid_credentials`: the current password is wrong.'],
          [429, '`rate_limited`: too many wrong passwords (here or at login) for this account or from this address; the right password gets this answer too until `Retry-After`.'],
          BUSY)
      }
    },
    onRequest: [fastify.authenticate, fastify.requireStepUp]
  }, async (request, reply) => {
    const { principal } = request
    await changePassword(fastify.auth, principal!.user.id, principal!.sessionId, {
      currentPassword: request.body.current_password,
      newPassword: request.body.new_password
    }, clientInfo(request))
    return reply.code(204).send(null)
  })
}

export default route
