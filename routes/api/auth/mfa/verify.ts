// POST /api/auth/mfa/verify: the second step of a login, the mfa_token and a code or a passkey's assertion → tokens.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { clientInfo } from '../../../../src/http/client-info.js'
import { answerOf } from '../../../../src/mfa/answer.js'
import { verifySecondFactor } from '../../../../src/mfa/second-factor.js'
import { MFA_UNAVAILABLE, SecondFactorMethod, TotpCode } from '../../../../src/schemas/mfa.js'
import { bodyErrors, problems } from '../../../../src/schemas/responses.js'
import { LoginResponse, ref } from '../../../../src/schemas/shared.js'
import { AuthenticationCredential } from '../../../../src/schemas/webauthn.js'

export const VerifyMfaBody = Type.Object({
  mfa_token: Type.String({ minLength: 1, maxLength: 256, description: 'The `mfa_token` of the login\'s `mfa_required` answer.' }),
  method: SecondFactorMethod,
  code: Type.Optional(TotpCode),
  credential: Type.Optional(AuthenticationCredential)
}, { additionalProperties: false, description: '`code` with `totp` and `recovery_code`; `credential` with `webauthn`.', examples: [{ mfa_token: 'Yq3vK8sN1xW5bR7tC2mZ9pL4hF6dJ0aE3uG8iO1yTkS', method: 'totp', code: '123456' }] })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/verify', {
    schema: {
      operationId: 'verifyMfa',
      summary: 'Finish a login with a second factor',
      description: 'Answers like a login (tokens, the `refresh_token` cookie), with an access token of `acr: "aal2"` (`amr` with `otp`, or `hwk`/`swk` for a passkey, and `mfa`). The `mfa_token` works once, for 5 minutes; a wrong code or assertion leaves it usable, and counts against the account\'s limit of wrong answers (`RATE_LIMIT_MFA_ACCOUNT`). A passkey answers the challenge of `POST /api/auth/mfa/webauthn/options` for this `mfa_token`, once.',
      tags: ['auth'],
      body: VerifyMfaBody,
      response: {
        200: { ...ref(LoginResponse), description: 'Logged in. Sets the `refresh_token` cookie; `Cache-Control: no-store`.' },
        ...problems(...bodyErrors,
          [401, '`invalid_mfa_token` (unknown, expired or used) or `invalid_mfa_code` (wrong, or a TOTP code already used; for a passkey: no live challenge of this login, another passkey\'s or user\'s, another origin or relying party, a bad signature, or a counter that did not increase).'],
          [403, '`account_disabled` or `account_banned`: the account changed since the password was checked.'],
          [429, '`rate_limited`: too many wrong codes for this account, or too many requests from this address.'],
          MFA_UNAVAILABLE)
      }
    },
    config: { rateLimit: fastify.perIpLimit(fastify.config.rateLimits.loginPerIp) }
  }, async (request, reply) => {
    const { sessionId: _sessionId, ...result } = await verifySecondFactor(fastify.auth, { mfaToken: request.body.mfa_token, ...answerOf(request.body) }, clientInfo(request))
    return reply.deliverTokens(result)
  })
}

export default route
