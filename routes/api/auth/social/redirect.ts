// GET /api/auth/social/{provider}/authorize and …/callback: the server-driven flow for browsers.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { clientInfo } from '../../../../src/http/client-info.js'
import { problems, RATE_LIMITED } from '../../../../src/schemas/responses.js'
import { ProviderParams } from '../../../../src/social/schemas.js'
import { finishRedirectLogin, LOGIN_STATE_TTL_MS, startRedirectLogin } from '../../../../src/social/login.js'

export const AuthorizeQuery = Type.Object({
  redirect_to: Type.Optional(Type.String({ maxLength: 2048, description: 'Where to send the browser after the login: a URL under `SOCIAL_REDIRECT_ALLOWLIST`.', examples: ['https://app.example.com/auth/done'] }))
}, { additionalProperties: false })

// Open on purpose: providers add parameters of their own (Google: `scope`, `authuser`, `prompt`, `hd`).
export const CallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ description: 'The authorization code.', examples: ['4/0AX4XfWgZq7'] })),
  state: Type.Optional(Type.String({ description: 'The state Portcullis sent to the provider.', examples: ['k3Jd9sQ0Zy2Vb7fHn1Lr'] })),
  error: Type.Optional(Type.String({ description: 'Set by the provider when the user refused, or the request failed.', examples: ['access_denied'] }))
}, { additionalProperties: true })

const Redirect = Type.Null({ description: 'See `Location`.' })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  const rateLimit = fastify.perIpLimit(fastify.config.rateLimits.tokenPerIp)
  // The cookie that binds a redirect flow to the browser that started it (see stateOfBinding).
  // SameSite=Lax: the provider's redirect back is a cross-site top-level GET, which Strict would strip.
  // `__Host-` (Secure, no Domain, Path=/) whenever the cookie is Secure, so that a sibling subdomain
  // cannot plant its own binding value (cookie tossing).
  const { cookieSecure } = fastify.config
  const bindingCookie = cookieSecure ? '__Host-portcullis_social' : 'portcullis_social'
  const bindingAttributes = { httpOnly: true, secure: cookieSecure, sameSite: 'lax' as const, path: '/' }

  fastify.get('/:provider/authorize', {
    schema: {
      operationId: 'startSocialLogin',
      summary: 'Start a social login (browser redirect)',
      description: 'Answers `302` to the provider\'s authorization page, with PKCE (S256), `state` and, for OpenID providers, `nonce`; the verifier and nonce stay on the server, single-use, for 10 minutes. It also sets a short-lived HttpOnly, SameSite=Lax cookie that binds the login to this browser: the callback refuses a state this browser did not start. The provider sends the browser back to `…/callback`.',
      tags: ['social'],
      params: ProviderParams,
      querystring: AuthorizeQuery,
      response: {
        302: { ...Redirect, description: 'To the provider; `Location` is its authorization URL.' },
        ...problems(
          [400, '`invalid_redirect`: `redirect_to` is missing or not in the allowed list; or `validation_failed`.'],
          [404, '`unknown_provider`: no such provider is enabled.'],
          RATE_LIMITED,
          [502, '`provider_unavailable`: the provider\'s discovery document could not be fetched.'])
      }
    },
    config: { rateLimit }
  }, async (request, reply) => {
    const { url, binding } = await startRedirectLogin(fastify.social, request.params.provider, request.query.redirect_to)
    reply.setCookie(bindingCookie, binding, { ...bindingAttributes, maxAge: LOGIN_STATE_TTL_MS / 1000 })
    return reply.header('cache-control', 'no-store').redirect(url.href, 302)
  })

  fastify.get('/:provider/callback', {
    schema: {
      operationId: 'finishSocialLogin',
      summary: 'The provider\'s return (browser redirect)',
      description: 'Checks the single-use `state` and that this browser started the login (the cookie set by `…/authorize`; it is cleared), exchanges the code with the stored PKCE verifier (and checks the ID token and its nonce), logs the user in and answers `302` to the `redirect_to` of the login with the `refresh_token` cookie set: no access or refresh token is ever put in a URL. The app then calls `POST /api/auth/token/refresh` to get an access token. For an account with a second factor no cookie is set: the redirect carries `#mfa_required=true&mfa_token=…&methods=totp,recovery_code` in its fragment (never sent to a server), and the app finishes with `POST /api/auth/mfa/verify`. A login that fails after the state checked out goes back to `redirect_to` with `?error=<code>` (`access_denied`, `invalid_grant`, `account_exists`, `email_not_verified`, `account_banned`, `account_disabled`, `provider_unavailable`, `provider_error`).',
      tags: ['social'],
      params: ProviderParams,
      querystring: CallbackQuery,
      response: {
        302: { ...Redirect, description: 'To `redirect_to`: logged in (the `refresh_token` cookie is set), a second factor needed (`#mfa_token=…`), or with `?error=<code>`.' },
        ...problems(
          [400, '`invalid_state`: the state is missing, unknown, expired or already used, or this browser did not start the login (no or another login cookie).'],
          [404, '`unknown_provider`: no such provider is enabled.'],
          RATE_LIMITED)
      }
    },
    config: { rateLimit }
  }, async (request, reply) => {
    const query = new URL(request.url, 'http://callback.invalid').searchParams
    // The callback URL carried a code: keep it out of the next page's Referer (the refusals included).
    reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store')
    // One use, whatever the outcome.
    reply.clearCookie(bindingCookie, { ...bindingAttributes, maxAge: 0, expires: new Date(0) })
    const outcome = await finishRedirectLogin(fastify.social, request.params.provider, query, request.cookies[bindingCookie], clientInfo(request))
    if (outcome.kind === 'logged_in') reply.deliverTokens(outcome.login)
    return reply.redirect(outcome.redirectTo, 302)
  })
}

export default route
