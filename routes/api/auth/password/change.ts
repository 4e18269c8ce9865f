// POST /api/auth/password/change: new password after proving the current one; other sessions end.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { changePassword } from '../../../../src/accounts/accounts.js'
import { NewPassword, Password } from '../../../../src/schemas/fields.js'
import { BUSY, bodyErrors, problems, UNAUTHENTICATED } from '../../../../src/schemas/responses.js'

export const ChangePasswordBody = Type.Object({
  current_password: Password,
  new_password: NewPassword
}, { additionalProperties: false, examples: [{ current_password: 'correct horse battery', new_password: 'battery staple horse' }] })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/change', {
    schema: {
      operationId: 'changePassword',
      summary: 'Change the password',
      description: 'Checks the current password, sets the new one, and revokes every other session of the user (this one stays signed in).',
      tags: ['account'],
      security: [{ bearerAuth: [] }],
      body: ChangePasswordBody,
      response: {
        204: Type.Null({ description: 'Changed.' }),
        ...problems(...bodyErrors, UNAUTHENTICATED, [403, '`invalid_credentials`: the current password is wrong.'], BUSY)
      }
    },
    onRequest: [fastify.authenticate]
  }, async (request, reply) => {
    const { principal } = request
    await changePassword(fastify.auth, principal!.user.id, principal!.sessionId, {
      currentPassword: request.body.current_password,
      newPassword: request.body.new_password
    })
    return reply.code(204).send(null)
  })
}

export default route
