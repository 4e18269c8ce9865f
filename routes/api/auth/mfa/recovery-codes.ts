// POST /api/auth/mfa/recovery-codes: a new set of recovery codes; the old ones die.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { regenerateRecoveryCodes } from '../../../../src/mfa/recovery-codes.js'
import { RecoveryCodes } from '../../../../src/schemas/mfa.js'
import { problems, STEP_UP } from '../../../../src/schemas/responses.js'

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/recovery-codes', {
    schema: {
      operationId: 'regenerateRecoveryCodes',
      summary: 'New recovery codes',
      description: '10 new single-use recovery codes, shown this once; every older code stops working. Needs an `aal2` token.',
      tags: ['mfa'],
      security: [{ bearerAuth: [] }],
      response: {
        200: { ...RecoveryCodes, description: 'The new codes. `Cache-Control: no-store`.' },
        ...problems(STEP_UP, [409, '`no_second_factor`: the user has no second factor for the codes to back up.'])
      }
    },
    onRequest: [fastify.authenticate, fastify.requireStepUp]
  }, async (request, reply) => {
    const codes = await regenerateRecoveryCodes(fastify.auth, request.principal!.user.id)
    return reply.header('cache-control', 'no-store').send({ recovery_codes: codes })
  })
}

export default route
