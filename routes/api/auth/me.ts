// GET and PATCH /api/auth/me: the signed-in user's profile.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { updateProfile } from '../../../src/accounts/accounts.js'
import { Username } from '../../../src/schemas/fields.js'
import { bodyErrors, problems, UNAUTHENTICATED } from '../../../src/schemas/responses.js'
import { ref, User } from '../../../src/schemas/shared.js'
import { loadUserView, userView } from '../../../src/accounts/user-view.js'

export const UpdateMeBody = Type.Object({
  username: Type.Optional(Username)
}, { additionalProperties: false, examples: [{ username: 'ada_lovelace' }] })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/me', {
    schema: {
      operationId: 'getMe',
      summary: 'The signed-in user',
      tags: ['account'],
      security: [{ bearerAuth: [] }],
      response: {
        200: { ...ref(User), description: 'The user of the access token.' },
        ...problems(UNAUTHENTICATED)
      }
    },
    onRequest: [fastify.authenticate]
  }, async (request) => {
    // Everything came with the authentication query: no second round trip.
    const { user, authorization, providers } = request.principal!
    return userView(user, { ...authorization, providers })
  })

  fastify.patch('/me', {
    schema: {
      operationId: 'updateMe',
      summary: 'Change the signed-in user\'s profile',
      tags: ['account'],
      security: [{ bearerAuth: [] }],
      body: UpdateMeBody,
      response: {
        200: { ...ref(User), description: 'The updated user.' },
        ...problems(...bodyErrors, UNAUTHENTICATED, [409, '`username_taken`.'])
      }
    },
    onRequest: [fastify.authenticate]
  }, async (request) => loadUserView(fastify.repositories, await updateProfile(fastify.auth, request.principal!.user.id, request.body)))
}

export default route
