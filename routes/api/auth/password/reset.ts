// POST /api/auth/password/reset (mail a link), POST /api/auth/password/reset/confirm (use it), and
// GET …/confirm (check a link before showing a form).
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '../../../../src/errors.js'
import { normaliseEmail, trimEmailField } from '../../../../src/accounts/identifiers.js'
import { confirmPasswordReset, isResetTokenLive, requestPasswordReset } from '../../../../src/accounts/password-reset.js'
import { Email, NewPassword, OneTimeToken } from '../../../../src/schemas/fields.js'
import { BUSY, bodyErrors, problems, RATE_LIMITED } from '../../../../src/schemas/responses.js'
import { Detail, ref } from '../../../../src/schemas/shared.js'

export const ResetBody = Type.Object({ email: Email }, { additionalProperties: false, examples: [{ email: 'ada@example.com' }] })
export const ConfirmBody = Type.Object({
  token: OneTimeToken,
  new_password: NewPassword
}, { additionalProperties: false })
// Open on purpose: mail clients and link trackers append their own query parameters to links.
const ConfirmQuery = Type.Object({ token: OneTimeToken })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  const { rateLimits } = fastify.config

  fastify.post('/reset', {
    schema: {
      operationId: 'requestPasswordReset',
      summary: 'Mail a password reset link',
      description: 'Answers the same `202` whether or not the address has an account; the lookup and the mail happen in the background, so the answer takes the same time too. Limited per client address and per target address.',
      tags: ['auth'],
      body: ResetBody,
      response: { 202: { ...ref(Detail), description: 'Accepted.' }, ...problems(...bodyErrors, RATE_LIMITED) }
    },
    config: { rateLimit: fastify.perIpLimit(rateLimits.emailPerIp) },
    preValidation: async (request) => trimEmailField(request.body)
  }, async (request, reply) => {
    const email = normaliseEmail(request.body.email)
    await fastify.limitPerTarget('password-reset', email, rateLimits.emailPerAddress)
    fastify.background.run('password reset request', () => requestPasswordReset(fastify.auth, email))
    return reply.code(202).send({ detail: 'If this address belongs to an account, a reset link is on its way.' })
  })

  fastify.post('/reset/confirm', {
    schema: {
      operationId: 'confirmPasswordReset',
      summary: 'Set a new password with the token from the reset mail',
      description: 'Single-use. Sets the password, marks the email verified, and revokes every session of the user. A password the policy refuses leaves the token usable.',
      tags: ['auth'],
      body: ConfirmBody,
      response: {
        204: Type.Null({ description: 'Done: log in with the new password.' }),
        ...problems([400, '`invalid_token` (unknown, expired or already used) or `validation_failed` (the new password).'], ...bodyErrors.slice(1), RATE_LIMITED, BUSY)
      }
    },
    config: { rateLimit: fastify.perIpLimit(rateLimits.tokenPerIp) }
  }, async (request, reply) => {
    await confirmPasswordReset(fastify.auth, request.body.token, request.body.new_password)
    return reply.code(204).send(null)
  })

  fastify.get('/reset/confirm', {
    schema: {
      operationId: 'checkPasswordResetToken',
      summary: 'Check a password reset link without using it',
      description: 'The target of the reset mail’s link when `RESET_PASSWORD_URL` is not set: tells whether the token is still live. Set the password with `POST` to the same path.',
      tags: ['auth'],
      querystring: ConfirmQuery,
      response: {
        200: { ...ref(Detail), description: 'The token is live.' },
        ...problems([400, '`invalid_token`: unknown, expired or already used.'], RATE_LIMITED)
      }
    },
    config: { rateLimit: fastify.perIpLimit(rateLimits.tokenPerIp) }
  }, async (request) => {
    if (!await isResetTokenLive(fastify.auth, request.query.token)) throw errors.invalidToken()
    return { detail: 'The link is valid: POST {token, new_password} to this address to set a new password.' }
  })
}

export default route
