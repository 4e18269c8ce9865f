// POST /api/auth/passkeys/login/options and POST /api/auth/passkeys/login: logging in with a passkey alone.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { trimEmailField } from '../../../../src/accounts/identifiers.js'
import { clientInfo } from '../../../../src/http/client-info.js'
import { emptyBodyAsObject } from '../../../../src/http/optional-body.js'
import { loginWithPasskey, passkeyLoginOptions } from '../../../../src/mfa/passkeys.js'
import { Email } from '../../../../src/schemas/fields.js'
import { bodyErrors, problems } from '../../../../src/schemas/responses.js'
import { LoginResponse, ref } from '../../../../src/schemas/shared.js'
import { ASSERTION_EXAMPLE, AuthenticationCredential, RequestOptions } from '../../../../src/schemas/webauthn.js'

export const PasskeyLoginOptionsBody = Type.Object({
  email: Type.Optional(Email)
}, { additionalProperties: false, description: 'Optionally the account\'s email, for passkeys that are not discoverable (security keys); without it any discoverable passkey of this site may answer.', examples: [{}, { email: 'ada@example.com' }] })

export const PasskeyLoginBody = Type.Object({
  credential: AuthenticationCredential
}, { additionalProperties: false, examples: [{ credential: ASSERTION_EXAMPLE }] })

const LIMITED: [number, string] = [429, '`rate_limited`: too many login requests from this address (`RATE_LIMIT_LOGIN_REQUESTS_IP`).']

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  const rateLimit = fastify.perIpLimit(fastify.config.rateLimits.loginPerIp)

  fastify.post('/login/options', {
    schema: {
      operationId: 'passkeyLoginOptions',
      summary: 'Start a passwordless login with a passkey',
      description: 'WebAuthn request options for `navigator.credentials.get()`, with user verification required. Without `email`, `allowCredentials` is empty: the browser offers the passkeys it holds for this site. With an `email`, the account\'s passkeys; an unknown address gets an answer of the same shape (no account enumeration). The challenge works once, for 5 minutes.',
      tags: ['auth'],
      body: PasskeyLoginOptionsBody,
      response: {
        200: RequestOptions,
        ...problems(...bodyErrors, LIMITED)
      }
    },
    config: { rateLimit },
    preValidation: [emptyBodyAsObject, async (request) => trimEmailField(request.body)]
  }, async (request, reply) => {
    const options = await passkeyLoginOptions(fastify.auth, request.body.email)
    return reply.header('cache-control', 'no-store').send(options)
  })

  fastify.post('/login', {
    schema: {
      operationId: 'passkeyLogin',
      summary: 'Log in with a passkey',
      description: 'Answers like a password login (tokens, the `refresh_token` cookie). The assertion must answer a challenge of `POST /api/auth/passkeys/login/options`, come from an origin in `WEBAUTHN_ORIGINS` for `WEBAUTHN_RP_ID`, verify the user (PIN or biometric: the `UV` flag), be signed by a registered passkey and carry a signature counter above the stored one (unless the authenticator keeps none). The access token has `amr: ["hwk" or "swk", "user"]` and `acr: "aal2"`: a user-verified passkey is two factors. No second factor is asked.',
      tags: ['auth'],
      body: PasskeyLoginBody,
      response: {
        200: { ...ref(LoginResponse), description: 'Logged in. Sets the `refresh_token` cookie; `Cache-Control: no-store`.' },
        ...problems(...bodyErrors,
          [401, '`invalid_credential`: no live challenge (unknown, expired or used), an unknown passkey, another origin or relying party, no user verification, a bad signature, or a counter that did not increase.'],
          [403, '`account_disabled`, `account_banned`, or `email_not_verified` when verification is required.'],
          LIMITED)
      }
    },
    config: { rateLimit }
  }, async (request, reply) => {
    const { sessionId: _sessionId, ...result } = await loginWithPasskey(fastify.auth, request.body.credential, clientInfo(request))
    return reply.deliverTokens(result)
  })
}

export default route
