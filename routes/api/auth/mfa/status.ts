// GET /api/auth/mfa: the signed-in user's second factors.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { mfaStatus } from '../../../../src/mfa/second-factor.js'
import { MfaStatus } from '../../../../src/schemas/mfa.js'
import { problems, UNAUTHENTICATED } from '../../../../src/schemas/responses.js'

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', {
    schema: {
      operationId: 'getMfa',
      summary: 'The signed-in user\'s second factors',
      tags: ['mfa'],
      security: [{ bearerAuth: [] }],
      response: {
        200: { ...MfaStatus, description: 'Which factors are set up; never a secret.' },
        ...problems(UNAUTHENTICATED)
      }
    },
    onRequest: [fastify.authenticate],
    config: { mfaEnrolment: true }
  }, async (request) => mfaStatus(fastify.auth, request.principal!.user.id))
}

export default route
