// POST /api/auth/mfa/verify: the second step of a login, the mfa_token and a code → tokens.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { clientInfo } from '../../../../src/http/client-info.js'
import { verifySecondFactor } from '../../../../src/mfa/second-factor.js'
import { CodeMethod, MFA_UNAVAILABLE, TotpCode } from '../../../../src/schemas/mfa.js'
import { bodyErrors, problems } from '../../../../src/schemas/responses.js'
import { LoginResponse, ref } from '../../../../src/schemas/shared.js'

export const VerifyMfaBody = Type.Object({
  mfa_token: Type.String({ minLength: 1, maxLength: 256, description: 'The `mfa_token` of the login\'s `mfa_required` answer.' }),
  method: CodeMethod,
  code: TotpCode
}, { additionalProperties: false, examples: [{ mfa_token: 'Yq3vK8sN1xW5bR7tC2mZ9pL4hF6dJ0aE3uG8iO1yTkS', method: 'totp', code: '123456' }] })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/verify', {
    schema: {
      operationId: 'verifyMfa',
      summary: 'Finish a login with a second factor',
      description: 'Answers like a login (tokens, the `refresh_token` cookie), with an access token of `acr: "aal2"`. The `mfa_token` works once, for 5 minutes; a wrong code leaves it usable, and counts against the account\'s limit of wrong codes (`RATE_LIMIT_MFA_ACCOUNT`).',
      tags: ['auth'],
      body: VerifyMfaBody,
      response: {
        200: { ...ref(LoginResponse), description: 'Logged in. Sets the `refresh_token` cookie; `Cache-Control: no-store`.' },
        ...problems(...bodyErrors,
          [401, '`invalid_mfa_token` (unknown, expired or used) or `invalid_mfa_code` (wrong, or a TOTP code already used).'],
          [403, '`account_disabled` or `account_banned`: the account changed since the password was checked.'],
          [429, '`rate_limited`: too many wrong codes for this account, or too many requests from this address.'],
          MFA_UNAVAILABLE)
      }
    },
    config: { rateLimit: fastify.perIpLimit(fastify.config.rateLimits.loginPerIp) }
  }, async (request, reply) => {
    const { mfa_token: mfaToken, method, code } = request.body
    const { sessionId: _sessionId, ...result } = await verifySecondFactor(fastify.auth, { mfaToken, method, code }, clientInfo(request))
    return reply.deliverTokens(result)
  })
}

export default route
