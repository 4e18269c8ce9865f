// POST /api/auth/passkeys/options and POST /api/auth/passkeys: registering a passkey for the signed-in user.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { registerPasskey } from '../../../../src/mfa/passkeys.js'
import { creationOptions } from '../../../../src/mfa/webauthn.js'
import { bodyErrors, problems, UNAUTHENTICATED } from '../../../../src/schemas/responses.js'
import { CreationOptions, Passkey, PasskeyName, REGISTRATION_EXAMPLE, RegistrationCredential } from '../../../../src/schemas/webauthn.js'

export const RegisterPasskeyBody = Type.Object({
  credential: RegistrationCredential,
  name: Type.Optional(PasskeyName)
}, { additionalProperties: false, description: 'The new credential and, optionally, a name for it (default `Passkey`).', examples: [{ credential: REGISTRATION_EXAMPLE, name: 'MacBook Touch ID' }] })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/options', {
    schema: {
      operationId: 'passkeyCreationOptions',
      summary: 'Start registering a passkey',
      description: 'WebAuthn creation options for `navigator.credentials.create()`: a discoverable credential (resident key) for this user, ES256, EdDSA or RS256, no attestation; the user\'s passkeys are excluded. The challenge works once, for 5 minutes; send the result to `POST /api/auth/passkeys`.',
      tags: ['mfa'],
      security: [{ bearerAuth: [] }],
      response: {
        200: CreationOptions,
        ...problems(UNAUTHENTICATED)
      }
    },
    onRequest: [fastify.authenticate],
    config: { mfaEnrolment: true }
  }, async (request, reply) => {
    const options = await creationOptions(fastify.auth, request.principal!.user)
    return reply.header('cache-control', 'no-store').send(options)
  })

  fastify.post('/', {
    schema: {
      operationId: 'registerPasskey',
      summary: 'Register a passkey',
      description: 'Checks the new credential against the challenge of `POST /api/auth/passkeys/options` (this user\'s, unused, at most 5 minutes old; the origin in `WEBAUTHN_ORIGINS`, the relying party `WEBAUTHN_RP_ID`) and stores its public key. From now on logins with a password ask for a second factor, which the passkey is; a user-verified passkey also logs in on its own (`POST /api/auth/passkeys/login`).',
      tags: ['mfa'],
      security: [{ bearerAuth: [] }],
      body: RegisterPasskeyBody,
      response: {
        201: { ...Passkey, description: 'Registered.' },
        ...problems(...bodyErrors.map(([status, text]): [number, string] => status === 400 ? [400, `\`invalid_credential\` (no live challenge of this user, another origin or relying party, a bad attestation, or a passkey registered already), or ${text}`] : [status, text]),
          UNAUTHENTICATED)
      }
    },
    onRequest: [fastify.authenticate],
    config: { mfaEnrolment: true }
  }, async (request, reply) => {
    const passkey = await registerPasskey(fastify.auth, request.principal!.user.id, request.body.credential, request.body.name)
    return reply.code(201).send(passkey)
  })
}

export default route
