// GET/POST /api/auth/verify-email (use a verification token) and POST /api/auth/verify-email/resend.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { resendVerification, verifyEmail } from '../../../src/accounts/email-verification.js'
import { normaliseEmail, trimEmailField } from '../../../src/accounts/identifiers.js'
import { Email, OneTimeToken } from '../../../src/schemas/fields.js'
import { bodyErrors, problems, RATE_LIMITED } from '../../../src/schemas/responses.js'
import { Detail, ref, User } from '../../../src/schemas/shared.js'
import { loadUserView } from '../../../src/accounts/user-view.js'

export const VerifyEmailBody = Type.Object({ token: OneTimeToken }, { additionalProperties: false })
// Open on purpose: mail clients and link trackers append their own query parameters to links.
const VerifyEmailQuery = Type.Object({ token: OneTimeToken })
export const ResendBody = Type.Object({ email: Email }, { additionalProperties: false, examples: [{ email: 'ada@example.com' }] })

const VerifiedResponse = Type.Object({
  user: ref(User),
  detail: Type.String({ description: 'A message for people.', examples: ['Your email address is verified.'] })
}, { additionalProperties: false, description: 'The address is verified.' })

const INVALID_TOKEN: [number, string] = [400, '`invalid_token` (unknown, expired or already used), or `validation_failed`.']
const VERIFIED = 'Your email address is verified.'

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  const tokenLimit = { rateLimit: fastify.perIpLimit(fastify.config.rateLimits.tokenPerIp) }

  fastify.get('/verify-email', {
    schema: {
      operationId: 'verifyEmailByLink',
      summary: 'Verify an email address (the link in the mail)',
      description: 'The target of the verification mail’s link when `VERIFY_EMAIL_URL` is not set. Single-use: a second click answers `invalid_token`.',
      tags: ['auth'],
      querystring: VerifyEmailQuery,
      response: { 200: VerifiedResponse, ...problems(INVALID_TOKEN, RATE_LIMITED) }
    },
    config: tokenLimit
  }, async (request) => ({ user: await loadUserView(fastify.repositories, await verifyEmail(fastify.auth, request.query.token)), detail: VERIFIED }))

  fastify.post('/verify-email', {
    schema: {
      operationId: 'verifyEmail',
      summary: 'Verify an email address with the token from the mail',
      description: 'For a single-page app that receives the link (`VERIFY_EMAIL_URL`) and posts the token here.',
      tags: ['auth'],
      body: VerifyEmailBody,
      response: { 200: VerifiedResponse, ...problems(INVALID_TOKEN, ...bodyErrors.slice(1), RATE_LIMITED) }
    },
    config: tokenLimit
  }, async (request) => ({ user: await loadUserView(fastify.repositories, await verifyEmail(fastify.auth, request.body.token)), detail: VERIFIED }))

  fastify.post('/verify-email/resend', {
    schema: {
      operationId: 'resendVerificationEmail',
      summary: 'Send the verification mail again',
      description: 'Answers the same `202` whether or not the address belongs to an unverified account; the mail, if any, is sent in the background. Limited per client address and per target address.',
      tags: ['auth'],
      body: ResendBody,
      response: { 202: { ...ref(Detail), description: 'Accepted.' }, ...problems(...bodyErrors, RATE_LIMITED) }
    },
    config: { rateLimit: fastify.perIpLimit(fastify.config.rateLimits.emailPerIp) },
    preValidation: async (request) => trimEmailField(request.body)
  }, async (request, reply) => {
    const email = normaliseEmail(request.body.email)
    // Limiting per target address keeps anyone from mail-bombing a victim; it applies to unknown addresses too.
    await fastify.limitPerTarget('verify-email', email, fastify.config.rateLimits.emailPerAddress)
    fastify.background.run('resend verification', () => resendVerification(fastify.auth, email))
    return reply.code(202).send({ detail: 'If this address belongs to an account that is not verified yet, a new link is on its way.' })
  })
}

export default route
