// POST /api/auth/register: create an account (never storing or returning the password).
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { register } from '../../../src/accounts/accounts.js'
import { trimEmailField } from '../../../src/accounts/identifiers.js'
import { Email, NewPassword, Username } from '../../../src/schemas/fields.js'
import { BUSY, bodyErrors, problems, RATE_LIMITED } from '../../../src/schemas/responses.js'
import { ref, User } from '../../../src/schemas/shared.js'
import { userView } from '../../../src/accounts/user-view.js'

export const RegisterBody = Type.Object({
  email: Email,
  username: Username,
  password: NewPassword
}, { additionalProperties: false, examples: [{ email: 'ada@example.com', username: 'ada', password: 'correct horse battery' }] })

const RegisterResponse = Type.Object({
  user: ref(User),
  detail: Type.String({ description: 'What happens next, for people.', examples: ['Account created. Check your email for the link that verifies your address.'] })
}, { additionalProperties: false })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/register', {
    schema: {
      operationId: 'register',
      summary: 'Create an account',
      description: 'Creates a user with email, username and password, and mails a verification link. The password must be 8 characters or more, at most 72 bytes in UTF-8, not entirely numeric, and not the email or username. The account starts with an unverified email. No tokens are issued: log in next.',
      tags: ['auth'],
      body: RegisterBody,
      response: {
        201: { ...RegisterResponse, description: 'Created. The user starts with an unverified email address.' },
        ...problems(...bodyErrors, [409, '`email_taken` or `username_taken` (with `REGISTRATION_ENUMERATION_SAFE`, a taken email answers 201 like a new one).'], RATE_LIMITED, BUSY)
      }
    },
    config: { rateLimit: fastify.perIpLimit(fastify.config.rateLimits.registerPerIp) },
    preValidation: async (request) => trimEmailField(request.body)
  }, async (request, reply) => {
    const user = await register(fastify.auth, request.body)
    return reply.code(201).send({
      user: userView(user),
      detail: 'Account created. Check your email for the link that verifies your address.'
    })
  })
}

export default route
