// POST /api/auth/login: email or username plus password → access JWT, refresh token (body and cookie).
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { clientInfo } from '../../../src/http/client-info.js'
import { errors } from '../../../src/errors.js'
import { trimEmailField } from '../../../src/accounts/identifiers.js'
import { Email, Password, Username } from '../../../src/schemas/fields.js'
import { BUSY, bodyErrors, problems } from '../../../src/schemas/responses.js'
import { LoginResponse, MfaRequired, ref } from '../../../src/schemas/shared.js'
import { login, type Credentials } from '../../../src/sessions/sessions.js'

export const LoginBody = Type.Object({
  email: Type.Optional(Email),
  username: Type.Optional(Username),
  password: Password
}, {
  additionalProperties: false,
  description: 'Exactly one of `email` and `username`, with the password.',
  examples: [{ email: 'ada@example.com', password: 'correct horse battery' }, { username: 'ada', password: 'correct horse battery' }]
})

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/login', {
    schema: {
      operationId: 'login',
      summary: 'Log in with email or username and password',
      description: 'Returns a short-lived access token and a long-lived refresh token (or, when the account has a second factor, `mfa_required` and an `mfa_token` for `POST /api/auth/mfa/verify`); the refresh token is also set as the HttpOnly `refresh_token` cookie (Path=/api/auth). An unknown account and a wrong password get the same answer in similar time; account state (disabled, banned) is only revealed after a correct password.',
      tags: ['auth'],
      body: LoginBody,
      response: {
        200: Type.Union([ref(LoginResponse), ref(MfaRequired)], { description: 'Logged in (sets the `refresh_token` cookie), or, for an account with a confirmed second factor, `mfa_required` with an `mfa_token` and no tokens or cookie. `Cache-Control: no-store`.' }),
        ...problems(...bodyErrors,
          [401, '`invalid_credentials`: no active account with these credentials.'],
          [403, '`account_disabled`, `account_banned`, or `email_not_verified` when verification is required (only after a correct password).'],
          [429, '`rate_limited`: too many failed logins for this account or from this address (the right password gets this answer too until `Retry-After`), or too many login requests from this address.'],
          BUSY)
      }
    },
    config: { rateLimit: fastify.perIpLimit(fastify.config.rateLimits.loginPerIp) },
    preValidation: async (request) => trimEmailField(request.body)
  }, async (request, reply) => {
    const { email, username, password } = request.body
    if ((email === undefined) === (username === undefined)) {
      throw errors.validation([{ field: email === undefined ? 'email' : 'username', message: 'give exactly one of email and username' }], 'Give exactly one of email and username.')
    }
    const credentials: Credentials = email !== undefined ? { email, password } : { username: username as string, password }
    const outcome = await login(fastify.auth, credentials, clientInfo(request))
    if ('mfa_required' in outcome) return reply.header('cache-control', 'no-store').send(outcome)
    const { sessionId: _sessionId, ...result } = outcome
    return reply.deliverTokens(result)
  })
}

export default route
