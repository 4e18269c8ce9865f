// POST /api/auth/mfa/webauthn/options: a passkey challenge for the second step of a login (mfa_token) or for a step-up (access token).
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { emptyBodyAsObject } from '../../../../src/http/optional-body.js'
import { webauthnLoginOptions, webauthnStepUpOptions } from '../../../../src/mfa/second-factor.js'
import { bodyErrors, problems } from '../../../../src/schemas/responses.js'
import { RequestOptions } from '../../../../src/schemas/webauthn.js'

export const WebauthnOptionsBody = Type.Object({
  mfa_token: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'The `mfa_token` of the login\'s `mfa_required` answer. Without it, the request must carry an access token: the options are then for `POST /api/auth/mfa/step-up`.' }))
}, { additionalProperties: false, examples: [{ mfa_token: 'Yq3vK8sN1xW5bR7tC2mZ9pL4hF6dJ0aE3uG8iO1yTkS' }, {}] })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/webauthn/options', {
    schema: {
      operationId: 'webauthnMfaOptions',
      summary: 'A passkey challenge for a second factor',
      description: 'WebAuthn request options for `navigator.credentials.get()`, naming the user\'s passkeys (`allowCredentials`). With an `mfa_token` (no authentication): for `POST /api/auth/mfa/verify` with `method: "webauthn"` and that `mfa_token`. Without one, with an access token: for `POST /api/auth/mfa/step-up` of that session. The challenge works once, for 5 minutes, and only there.',
      tags: ['mfa'],
      security: [{}, { bearerAuth: [] }],
      body: WebauthnOptionsBody,
      response: {
        200: RequestOptions,
        ...problems(...bodyErrors,
          [401, '`invalid_mfa_token` (unknown, expired or used), or, without an `mfa_token`, `not_authenticated`, `token_not_valid` or `user_inactive`.'],
          [409, '`no_passkey`: the user has no passkey.'],
          [429, '`rate_limited`: too many requests from this address (`RATE_LIMIT_LOGIN_REQUESTS_IP`).'])
      }
    },
    config: { rateLimit: fastify.perIpLimit(fastify.config.rateLimits.loginPerIp) },
    preValidation: emptyBodyAsObject
  }, async (request, reply) => {
    const mfaToken = request.body.mfa_token
    let options
    if (mfaToken !== undefined) {
      options = await webauthnLoginOptions(fastify.auth, mfaToken)
    } else {
      await fastify.authenticate(request, reply)
      options = await webauthnStepUpOptions(fastify.auth, request.principal!)
    }
    return reply.header('cache-control', 'no-store').send(options)
  })
}

export default route
