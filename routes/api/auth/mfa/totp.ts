// POST, POST …/confirm and DELETE /api/auth/mfa/totp: setting up and removing an authenticator app.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '../../../../src/errors.js'
import { confirmTotp, enrolTotp, removeTotp } from '../../../../src/mfa/totp.js'
import { MFA_UNAVAILABLE, RecoveryCodes } from '../../../../src/schemas/mfa.js'
import { bodyErrors, problems, STEP_UP, UNAUTHENTICATED } from '../../../../src/schemas/responses.js'

export const ConfirmTotpBody = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 64, description: 'The 6-digit code the app shows now, proving it holds the secret.', examples: ['123456'] })
}, { additionalProperties: false, examples: [{ code: '123456' }] })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/totp', {
    schema: {
      operationId: 'enrolTotp',
      summary: 'Start setting up an authenticator app (TOTP)',
      description: 'A new secret (RFC 6238: 6 digits, 30 s, SHA-1), as text, as an `otpauth://` URI and as a QR code (SVG). The factor stays pending, and logins do not ask for it, until `POST /api/auth/mfa/totp/confirm` with a first code; starting again replaces a pending secret.',
      tags: ['mfa'],
      security: [{ bearerAuth: [] }],
      response: {
        201: Type.Object({
          secret: Type.String({ description: 'The shared secret in base32, for typing into the app by hand.', examples: ['JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'] }),
          otpauth_url: Type.String({ description: 'The `otpauth://totp/…` URI the app reads.', examples: ['otpauth://totp/Portcullis:ada%40example.com?issuer=Portcullis&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30'] }),
          qr_svg: Type.String({ description: 'The URI as a QR code, an SVG document.', examples: ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 37 37" shape-rendering="crispEdges"><path fill="#ffffff" d="M0 0h37v37H0z"/><path stroke="#000000" d="M2 2.5h7m1 0h1"/></svg>'] })
        }, { additionalProperties: false, description: 'Pending until confirmed. `Cache-Control: no-store`.' }),
        ...problems(UNAUTHENTICATED, [409, '`already_enrolled`: a confirmed authenticator app exists; remove it first.'], MFA_UNAVAILABLE)
      }
    },
    onRequest: [fastify.authenticate],
    config: { mfaEnrolment: true }
  }, async (request, reply) => {
    const { user } = request.principal!
    const enrolment = await enrolTotp(fastify.auth, user)
    return reply.code(201).header('cache-control', 'no-store').send(enrolment)
  })

  fastify.post('/totp/confirm', {
    schema: {
      operationId: 'confirmTotp',
      summary: 'Confirm the authenticator app with a first code',
      description: 'Turns the pending factor on and returns the 10 recovery codes, shown this once. From now on logins ask for a second factor.',
      tags: ['mfa'],
      security: [{ bearerAuth: [] }],
      body: ConfirmTotpBody,
      response: {
        200: { ...RecoveryCodes, description: 'Confirmed. `Cache-Control: no-store`.' },
        ...problems(...bodyErrors.map(([status, text]): [number, string] => status === 400 ? [400, `\`invalid_mfa_code\` (a wrong code, or no pending set-up), or ${text}`] : [status, text]),
          UNAUTHENTICATED, [409, '`already_enrolled`: the app is already confirmed.'], MFA_UNAVAILABLE)
      }
    },
    onRequest: [fastify.authenticate],
    config: { mfaEnrolment: true }
  }, async (request, reply) => {
    const codes = await confirmTotp(fastify.auth, request.principal!.user.id, request.body.code)
    return reply.header('cache-control', 'no-store').send({ recovery_codes: codes })
  })

  fastify.delete('/totp', {
    schema: {
      operationId: 'deleteTotp',
      summary: 'Remove the authenticator app',
      description: 'Removes the TOTP factor (pending or confirmed) and the recovery codes. Needs an `aal2` token when the user has a second factor.',
      tags: ['mfa'],
      security: [{ bearerAuth: [] }],
      response: {
        204: Type.Null({ description: 'Removed.' }),
        ...problems(STEP_UP, [404, '`not_found`: no authenticator app is set up.'])
      }
    },
    onRequest: [fastify.authenticate, fastify.requireStepUp]
  }, async (request, reply) => {
    if (!await removeTotp(fastify.auth, request.principal!.user.id)) throw errors.notFound('No authenticator app is set up.')
    return reply.code(204).send(null)
  })
}

export default route
