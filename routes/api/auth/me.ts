// GET and PATCH /api/auth/me: the signed-in user's profile.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { updateProfile } from '../../../src/accounts/accounts.js'
import { Username } from '../../../src/schemas/fields.js'
import { bodyErrors, problems, UNAUTHENTICATED } from '../../../src/schemas/responses.js'
import { ref, User } from '../../../src/schemas/shared.js'
import { loadUserView, userView } from '../../../src/accounts/user-view.js'
import { djangoAccessUser } from '../../../src/django/cutover.js'
import type { UserRecord } from '../../../db/repositories.js'

export const UpdateMeBody = Type.Object({
  username: Type.Optional(Username)
}, { additionalProperties: false, examples: [{ username: 'ada_lovelace' }] })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  /**
   * The guard, and during the cut-over (DJANGO_SECRET_KEY) a still-valid access token of the Django
   * deployment for an imported user: front ends keep their signed-in state until it expires.
   */
  async function authenticateOrDjango (request: FastifyRequest, reply: FastifyReply): Promise<UserRecord | undefined> {
    try {
      await fastify.authenticate(request, reply)
      return undefined
    } catch (err) {
      const header = request.headers.authorization ?? ''
      const token = /^Bearer +(\S+) *$/i.exec(header)?.[1]
      const user = token === undefined ? undefined : await djangoAccessUser(fastify.auth, token)
      if (user === undefined) throw err
      return user
    }
  }

  fastify.get('/me', {
    schema: {
      operationId: 'getMe',
      summary: 'The signed-in user',
      tags: ['account'],
      description: 'During the cut-over from Django (`DJANGO_SECRET_KEY`), a still-valid access token of the Django deployment for an imported user is accepted here too.',
      security: [{ bearerAuth: [] }],
      response: {
        200: { ...ref(User), description: 'The user of the access token.' },
        ...problems(UNAUTHENTICATED)
      }
    },
  }, async (request, reply) => {
    const djangoUser = await authenticateOrDjango(request, reply)
    if (djangoUser !== undefined) return loadUserView(fastify.repositories, djangoUser)
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
