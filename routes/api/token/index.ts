// POST /api/token/, /refresh/, /verify/, /blacklist/: djangorestframework-simplejwt's routes, bodies and errors (DJANGO_COMPAT).
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import formbody from '@fastify/formbody'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { clientInfo } from '../../../src/http/client-info.js'
import { ProblemError } from '../../../src/errors.js'
import { problems } from '../../../src/schemas/responses.js'
import { ACCESS_TOKEN_EXAMPLE } from '../../../src/schemas/shared.js'
import { exchangeDjangoRefresh, looksLikeJwt } from '../../../src/django/cutover.js'
import { charFields, detailResponse, FieldErrors, noActiveAccount, parseForm, secondFactorNeeded, SIMPLEJWT_CONSUMES, simplejwtErrorHandler, tokenNotValid } from '../../../src/django/simplejwt.js'
import { hashOpaqueToken } from '../../../src/sessions/opaque-tokens.js'
import { isLiveRefreshToken, isUsableRefreshToken } from '../../../src/sessions/refresh-liveness.js'
import { login, logout, refresh } from '../../../src/sessions/sessions.js'

const REFRESH_EXAMPLE = 'dPT2bhpXVzCaoVHKU4tF7ZFRwlkDSFeWNRd5v_aGTfA'
const Access = Type.String({ description: 'A Portcullis access token (a JWT), for `Authorization: Bearer`.', examples: [ACCESS_TOKEN_EXAMPLE] })
const Refresh = Type.String({ description: 'A Portcullis refresh token (opaque, not a JWT): present it to `/api/token/refresh/`.', examples: [REFRESH_EXAMPLE] })
const TokenString = (description: string, example: string) => Type.String({ description, examples: [example] })

const ObtainBody = Type.Object({
  email: Type.Optional(TokenString('The email address, when `DJANGO_USERNAME_FIELD` is `email` (the default).', 'ada@example.com')),
  username: Type.Optional(TokenString('The username, when `DJANGO_USERNAME_FIELD` is `username`.', 'ada')),
  password: Type.Optional(TokenString('The password.', 'correct horse battery'))
}, { description: 'The username field (`email` by default) and the password; anything else is ignored, as simplejwt does. Every field is stripped of surrounding whitespace first (DRF\'s `CharField`, `trim_whitespace`), the password too.', examples: [{ email: 'ada@example.com', password: 'correct horse battery' }] })
const RefreshBody = Type.Object({ refresh: Type.Optional(TokenString('A refresh token: a Portcullis one, or during the cut-over one the Django deployment minted (accepted once).', REFRESH_EXAMPLE)) })
const VerifyBody = Type.Object({ token: Type.Optional(TokenString('An access token, or a refresh token.', ACCESS_TOKEN_EXAMPLE)) })
const BlacklistBody = Type.Object({ refresh: Type.Optional(TokenString('The refresh token to revoke: its session ends.', REFRESH_EXAMPLE)) })

const badRequest = { ...FieldErrors, description: 'A required field is missing, null, blank (empty or only whitespace), not a string, or has a null or lone surrogate character (DRF\'s field errors), or the body is not JSON (`{detail}`).' }
const invalidToken = detailResponse('`{"detail": "Token is invalid or expired", "code": "token_not_valid"}`.')
const throttled = detailResponse('`{"detail": "Request was throttled. Expected available in N seconds."}`, with `Retry-After`.')
const tooLarge = detailResponse('The body is over 64 KiB.')
const unsupported = detailResponse('The body is neither JSON nor a form (`application/x-www-form-urlencoded`; multipart is not accepted).')
const OFF = problems([404, '`not_found`: `DJANGO_COMPAT` is off (problem+json, as for any unknown path).'])
const COMPAT_NOTE = 'Only with `DJANGO_COMPAT=true`. The body is JSON or a form (`application/x-www-form-urlencoded`; a field given twice counts by its last value), with the same answers. '
const Empty = Type.Object({}, { additionalProperties: false, description: '`{}`.' })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  const enabled = fastify.config.django.compat
  const usernameField = fastify.config.django.usernameField
  // Registered always, so that the OpenAPI document lists them; without DJANGO_COMPAT they are not found.
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!enabled) return reply.callNotFound()
  })
  fastify.setErrorHandler(simplejwtErrorHandler)
  // Forms as well as JSON, as DRF's default parsers take them; in this scope only.
  await fastify.register(formbody, { parser: parseForm })
  const limit = (rateLimit: typeof fastify.config.rateLimits.loginPerIp) => ({ rateLimit: fastify.perIpLimit(rateLimit) })

  fastify.post('/', {
    schema: {
      operationId: 'djangoTokenObtainPair',
      summary: 'simplejwt: log in (TokenObtainPairView)',
      description: COMPAT_NOTE + '`DJANGO_USERNAME_FIELD` names the login field (`email` or `username`). A wrong password, an unknown, disabled or banned account all get simplejwt\'s `401 {"detail": "No active account found with the given credentials"}`.',
      tags: ['django'],
      consumes: SIMPLEJWT_CONSUMES,
      body: ObtainBody,
      response: {
        200: Type.Object({ refresh: Refresh, access: Access }, { additionalProperties: false, description: 'Logged in: a new session.' }),
        400: badRequest,
        401: detailResponse('`{"detail": "No active account found with the given credentials"}`; for an account with a second factor, which simplejwt cannot ask for, `{"detail": "This account has a second factor: log in at /api/auth/login", "code": "mfa_required"}`.'),
        413: tooLarge,
        415: unsupported,
        429: throttled,
        ...OFF,
        503: detailResponse('Too many passwords are being hashed at once; retry after `Retry-After` seconds.')
      }
    },
    attachValidation: true,
    config: limit(fastify.config.rateLimits.loginPerIp)
  }, async (request) => {
    const fields = charFields(request.body, [usernameField, 'password'] as const)
    const password = fields.password
    const credentials = usernameField === 'email' ? { email: fields.email, password } : { username: fields.username, password }
    try {
      const result = await login(fastify.auth, credentials, clientInfo(request))
      if ('mfa_required' in result) throw secondFactorNeeded()
      return { refresh: result.refresh, access: result.access }
    } catch (err) {
      if (err instanceof ProblemError && err.statusCode !== 429 && err.statusCode !== 503) throw noActiveAccount()
      throw err
    }
  })

  fastify.post('/refresh/', {
    schema: {
      operationId: 'djangoTokenRefresh',
      summary: 'simplejwt: refresh (TokenRefreshView, ROTATE_REFRESH_TOKENS on)',
      description: COMPAT_NOTE + 'The refresh token is rotated (simplejwt\'s `ROTATE_REFRESH_TOKENS=True` with `BLACKLIST_AFTER_ROTATION`): the answer carries a new one, and presenting the old one again revokes the session. During the cut-over (`DJANGO_SECRET_KEY`), a refresh token the Django deployment minted is exchanged once for a Portcullis session.',
      tags: ['django'],
      consumes: SIMPLEJWT_CONSUMES,
      body: RefreshBody,
      response: {
        200: Type.Object({ access: Access, refresh: Refresh }, { additionalProperties: false, description: 'A new access token and the refresh token that replaces the one presented.' }),
        400: badRequest,
        401: invalidToken,
        413: tooLarge,
        415: unsupported,
        429: throttled,
        ...OFF
      }
    },
    attachValidation: true,
    config: limit(fastify.config.rateLimits.refreshPerIp)
  }, async (request) => {
    const { refresh: presented } = charFields(request.body, ['refresh'] as const)
    try {
      if (fastify.config.django.cutover !== undefined && looksLikeJwt(presented)) {
        const result = await exchangeDjangoRefresh(fastify.auth, presented, clientInfo(request))
        return { access: result.access, refresh: result.refresh }
      }
      const pair = await refresh(fastify.auth, presented, clientInfo(request))
      return { access: pair.access, refresh: pair.refresh }
    } catch (err) {
      if (err instanceof ProblemError && err.statusCode !== 429 && err.statusCode !== 503) throw tokenNotValid()
      throw err
    }
  })

  fastify.post('/verify/', {
    schema: {
      operationId: 'djangoTokenVerify',
      summary: 'simplejwt: verify a token (TokenVerifyView)',
      description: COMPAT_NOTE + '`200 {}` for a valid access token whose session is live, or a live refresh token; anything else is `401 token_not_valid`.',
      tags: ['django'],
      consumes: SIMPLEJWT_CONSUMES,
      body: VerifyBody,
      response: { 200: Empty, 400: badRequest, 401: invalidToken, 413: tooLarge, 415: unsupported, 429: throttled, ...OFF }
    },
    attachValidation: true,
    config: limit(fastify.config.rateLimits.verifyPerIp)
  }, async (request) => {
    const { token } = charFields(request.body, ['token'] as const)
    if (looksLikeJwt(token)) {
      try {
        await fastify.loadPrincipal(await fastify.verifyAccessToken(token))
        return {}
      } catch {
        throw tokenNotValid()
      }
    }
    // As a refresh with it would: a banned or disabled user's token is not valid.
    const found = await fastify.repositories.sessions.findByTokenHash(hashOpaqueToken(token))
    if (!isUsableRefreshToken(found, fastify.auth.now())) throw tokenNotValid()
    return {}
  })

  fastify.post('/blacklist/', {
    schema: {
      operationId: 'djangoTokenBlacklist',
      summary: 'simplejwt: blacklist a refresh token (TokenBlacklistView)',
      description: COMPAT_NOTE + 'Revokes the session of the refresh token (a logout); an unknown, expired or already revoked token is `401 token_not_valid`.',
      tags: ['django'],
      consumes: SIMPLEJWT_CONSUMES,
      body: BlacklistBody,
      response: { 200: Empty, 400: badRequest, 401: invalidToken, 413: tooLarge, 415: unsupported, 429: throttled, ...OFF }
    },
    attachValidation: true,
    config: limit(fastify.config.rateLimits.refreshPerIp)
  }, async (request) => {
    const { refresh: presented } = charFields(request.body, ['refresh'] as const)
    // simplejwt blacklists whatever the user's state: logging out never needs the account to be usable.
    const found = await fastify.repositories.sessions.findByTokenHash(hashOpaqueToken(presented))
    if (!isLiveRefreshToken(found, fastify.auth.now())) throw tokenNotValid()
    await logout(fastify.auth, presented)
    return {}
  })
}

export default route
