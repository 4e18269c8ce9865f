// PATCH and DELETE /api/auth/passkeys/{id}: renaming and removing one of the signed-in user's passkeys.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { removePasskey, renamePasskey } from '../../../../src/mfa/passkeys.js'
import { bodyErrors, problems, STEP_UP, UNAUTHENTICATED } from '../../../../src/schemas/responses.js'
import { Passkey, PasskeyName } from '../../../../src/schemas/webauthn.js'

const PasskeyParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, description: 'A passkey id from `GET /api/auth/mfa`.', examples: ['0b5c3f6e-8a1d-4c2b-9e7f-1a2b3c4d5e6f'] })
})

export const RenamePasskeyBody = Type.Object({
  name: PasskeyName
}, { additionalProperties: false, examples: [{ name: 'YubiKey 5C' }] })

const NOT_FOUND: [number, string] = [404, '`not_found`: the user has no such passkey.']

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.patch('/:id', {
    schema: {
      operationId: 'renamePasskey',
      summary: 'Rename a passkey',
      tags: ['mfa'],
      security: [{ bearerAuth: [] }],
      params: PasskeyParams,
      body: RenamePasskeyBody,
      response: {
        200: { ...Passkey, description: 'Renamed.' },
        ...problems(...bodyErrors, UNAUTHENTICATED, NOT_FOUND)
      }
    },
    onRequest: [fastify.authenticate],
    config: { mfaEnrolment: true }
  }, async (request) => renamePasskey(fastify.auth, request.principal!.user.id, request.params.id, request.body.name))

  fastify.delete('/:id', {
    schema: {
      operationId: 'deletePasskey',
      summary: 'Remove a passkey',
      description: 'Removes the passkey; when it was the user\'s last second factor, the recovery codes go too. Needs an `aal2` token when the user has a second factor.',
      tags: ['mfa'],
      security: [{ bearerAuth: [] }],
      params: PasskeyParams,
      response: {
        204: Type.Null({ description: 'Removed.' }),
        ...problems(STEP_UP, NOT_FOUND)
      }
    },
    onRequest: [fastify.authenticate, fastify.requireStepUp]
  }, async (request, reply) => {
    await removePasskey(fastify.auth, request.principal!.user.id, request.params.id)
    return reply.code(204).send(null)
  })
}

export default route
