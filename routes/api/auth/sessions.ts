// GET /api/auth/sessions and DELETE /api/auth/sessions/{id}: the signed-in user's devices.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { problems, UNAUTHENTICATED } from '../../../src/schemas/responses.js'
import { nullable } from '../../../src/schemas/shared.js'
import { listSessions, revokeSession } from '../../../src/sessions/sessions.js'

export const Session = Type.Object({
  id: Type.String({ description: 'The session id (the `sid` claim of its access tokens).', examples: ['c2a4e6f8-1b3d-4f5a-8c7e-9d0b1a2c3e4f'] }),
  created_at: Type.String({ format: 'date-time', description: 'When the session logged in.' }),
  last_used_at: Type.String({ format: 'date-time', description: 'The last login or refresh.' }),
  user_agent: nullable(Type.String({ description: 'The User-Agent of the last use.', examples: ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'] })),
  ip: nullable(Type.String({ description: 'The client address of the last use.', examples: ['203.0.113.7'] })),
  current: Type.Boolean({ description: 'True for the session of the token making this request.' })
}, { $id: 'Session', additionalProperties: false })

const SessionParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, description: 'A session id from the list.', examples: ['c2a4e6f8-1b3d-4f5a-8c7e-9d0b1a2c3e4f'] })
})

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.addSchema(Session)

  fastify.get('/sessions', {
    schema: {
      operationId: 'listSessions',
      summary: 'List the live sessions of the signed-in user',
      tags: ['account'],
      security: [{ bearerAuth: [] }],
      response: {
        200: Type.Array(Type.Unsafe(Type.Ref('Session')), { description: 'Live sessions, most recently used first.' }),
        ...problems(UNAUTHENTICATED)
      }
    },
    onRequest: [fastify.authenticate]
  }, async (request) => {
    const { principal } = request
    return listSessions(fastify.auth, principal!.user.id, principal!.sessionId)
  })

  fastify.delete('/sessions/:id', {
    schema: {
      operationId: 'revokeSession',
      summary: 'Revoke one of the signed-in user\'s sessions',
      tags: ['account'],
      security: [{ bearerAuth: [] }],
      params: SessionParams,
      response: {
        204: Type.Null({ description: 'Revoked.' }),
        ...problems(UNAUTHENTICATED, [404, '`not_found`: no such live session of this user.'])
      }
    },
    onRequest: [fastify.authenticate]
  }, async (request, reply) => {
    await revokeSession(fastify.auth, request.principal!.user.id, request.params.id)
    return reply.code(204).send(null)
  })
}

export default route
