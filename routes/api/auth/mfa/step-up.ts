// POST /api/auth/mfa/step-up: raises the current session to aal2 with a second factor.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { clientInfo } from '../../../../src/http/client-info.js'
import { answerOf } from '../../../../src/mfa/answer.js'
import { stepUp } from '../../../../src/mfa/second-factor.js'
import { MFA_UNAVAILABLE, SecondFactorMethod, TotpCode } from '../../../../src/schemas/mfa.js'
import { bodyErrors, problems } from '../../../../src/schemas/responses.js'
import { ACCESS_TOKEN_EXAMPLE } from '../../../../src/schemas/shared.js'
import { AuthenticationCredential } from '../../../../src/schemas/webauthn.js'

export const StepUpBody = Type.Object({
  method: SecondFactorMethod,
  code: Type.Optional(TotpCode),
  credential: Type.Optional(AuthenticationCredential)
}, { additionalProperties: false, description: '`code` with `totp` and `recovery_code`; `credential` with `webauthn` (for the challenge of `POST /api/auth/mfa/webauthn/options` called with this session\'s access token).', examples: [{ method: 'totp', code: '123456' }] })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/step-up', {
    schema: {
      operationId: 'stepUpMfa',
      summary: 'Raise this session with a second factor',
      description: 'A new access token of the same session with `acr: "aal2"`; the session stays raised, so its refreshed access tokens are `aal2` too. Wrong codes and assertions count against the account\'s limit (`RATE_LIMIT_MFA_ACCOUNT`). With a passkey: first `POST /api/auth/mfa/webauthn/options` with this access token (and no `mfa_token`), whose challenge works once, for this session only.',
      tags: ['mfa'],
      security: [{ bearerAuth: [] }],
      body: StepUpBody,
      response: {
        200: Type.Object({
          access: Type.String({ description: 'The raised access JWT.', examples: [ACCESS_TOKEN_EXAMPLE] }),
          token_type: Type.Literal('Bearer', { description: 'Always `Bearer`.' }),
          expires_in: Type.Integer({ description: 'Seconds until the access token expires.', examples: [300] })
        }, { additionalProperties: false, description: 'Raised. `Cache-Control: no-store`.' }),
        ...problems(...bodyErrors,
          [401, '`invalid_mfa_code` (wrong, or a TOTP code already used; for a passkey: no live challenge of this session, a bad signature, ...), `not_authenticated`, `token_not_valid` or `user_inactive`.'],
          [409, '`no_second_factor`: the account has no second factor to raise the session with (nothing is counted).'],
          [429, '`rate_limited`: too many wrong codes for this account.'],
          MFA_UNAVAILABLE)
      }
    },
    onRequest: [fastify.authenticate]
  }, async (request, reply) => {
    const { user, sessionId, authorization, claims } = request.principal!
    const amr = Array.isArray(claims.amr) ? claims.amr : ['pwd']
    const result = await stepUp(fastify.auth, { user, sessionId, authorization, amr }, answerOf(request.body), clientInfo(request))
    return reply.header('cache-control', 'no-store').send(result)
  })
}

export default route
