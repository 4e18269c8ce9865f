// POST /api/auth/social/{provider} (client-driven login), …/link, and DELETE …/{provider} (unlink).
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { clientInfo } from '../../../../src/http/client-info.js'
import { bodyErrors, problems, RATE_LIMITED, UNAUTHENTICATED } from '../../../../src/schemas/responses.js'
import { ref, User } from '../../../../src/schemas/shared.js'
import { ClientGrantBody, GRANT_PROBLEMS, ProviderParams, SocialLoginResponse, SocialMfaRequired } from '../../../../src/social/schemas.js'
import { linkIdentity, loginWithGrant, unlinkProvider, type ClientGrant } from '../../../../src/social/login.js'

function grantOf (body: { code: string, code_verifier: string, redirect_uri: string, nonce?: string }): ClientGrant {
  return { code: body.code, codeVerifier: body.code_verifier, redirectUri: body.redirect_uri, ...(body.nonce !== undefined && { nonce: body.nonce }) }
}

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.addSchema(SocialLoginResponse)
  fastify.addSchema(SocialMfaRequired)
  const rateLimit = fastify.perIpLimit(fastify.config.rateLimits.tokenPerIp)

  fastify.post('/:provider', {
    schema: {
      operationId: 'socialLogin',
      summary: 'Log in with a provider\'s authorization code (client-driven PKCE)',
      description: 'For clients that run the provider\'s authorization step themselves with their own PKCE pair (mobile apps, SPAs). Matches the identity by the provider\'s user id; an unknown identity whose email belongs to an account links to it only when the provider verified the email (`409 account_exists` otherwise); a new identity with a verified email creates an account with no usable password. Answers like login, plus `created`, and sets the refresh cookie.',
      tags: ['social'],
      params: ProviderParams,
      body: ClientGrantBody,
      response: {
        200: Type.Union([ref(SocialLoginResponse), ref(SocialMfaRequired)], { description: 'Logged in (sets the `refresh_token` cookie), or, for an account with a second factor, `mfa_required` with an `mfa_token` for `POST /api/auth/mfa/verify` and no tokens or cookie. `Cache-Control: no-store`.' }),
        ...problems(...GRANT_PROBLEMS, ...bodyErrors.slice(1),
          [403, '`account_banned`, `account_disabled`, or `email_not_verified` (the provider verified no email, or verification is required).'],
          [409, '`account_exists`: an account has this email and the provider did not verify it.'],
          RATE_LIMITED)
      }
    },
    config: { rateLimit }
  }, async (request, reply) => {
    const outcome = await loginWithGrant(fastify.social, request.params.provider, grantOf(request.body), clientInfo(request))
    if ('mfa_required' in outcome) return reply.header('cache-control', 'no-store').send(outcome)
    const { sessionId: _sessionId, ...result } = outcome
    return reply.deliverTokens(result)
  })

  fastify.post('/:provider/link', {
    schema: {
      operationId: 'linkSocialAccount',
      summary: 'Link a provider identity to the signed-in user',
      description: 'Exchanges the code like `socialLogin`, then links the identity to the signed-in user. Linking the identity already linked to this user changes nothing.',
      tags: ['social'],
      security: [{ bearerAuth: [] }],
      params: ProviderParams,
      body: ClientGrantBody,
      response: {
        200: { ...ref(User), description: 'The user, with the provider in `providers`.' },
        ...problems(...GRANT_PROBLEMS, ...bodyErrors.slice(1), UNAUTHENTICATED,
          [409, '`already_linked`: the identity belongs to another account, or this account has another identity of this provider.'],
          RATE_LIMITED)
      }
    },
    onRequest: [fastify.authenticate],
    config: { rateLimit }
  }, async (request) => linkIdentity(fastify.social, request.principal!.user.id, request.params.provider, grantOf(request.body)))

  fastify.delete('/:provider', {
    schema: {
      operationId: 'unlinkSocialAccount',
      summary: 'Unlink a provider from the signed-in user',
      description: 'Refused with `409 last_login_method` when it is the account\'s only way in (no password and no other provider): set a password through the reset flow, or link another provider, first.',
      tags: ['social'],
      security: [{ bearerAuth: [] }],
      params: ProviderParams,
      response: {
        204: Type.Null({ description: 'Unlinked.' }),
        ...problems(UNAUTHENTICATED,
          [404, '`not_found`: no identity of this provider is linked to the account.'],
          [409, '`last_login_method`: the account has no password and no other provider.'])
      }
    },
    onRequest: [fastify.authenticate]
  }, async (request, reply) => {
    await unlinkProvider(fastify.social, request.principal!.user.id, request.params.provider)
    return reply.code(204).send(null)
  })
}

export default route
