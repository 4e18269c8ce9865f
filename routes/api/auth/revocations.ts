// GET /api/auth/revocations: the revocation feed, for services that verify access tokens offline.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { integerQuery } from '../../../src/http/query-integers.js'
import { listRevocations } from '../../../src/sessions/revocation-feed.js'
import { problems, RATE_LIMITED } from '../../../src/schemas/responses.js'

export const RevocationsQuery = Type.Object({
  since: Type.Optional(Type.String({ maxLength: 64, description: 'The `cursor` of the previous answer, or an ISO 8601 date-time with an offset (events recorded at or after it). Leave out for every event still kept.', examples: ['42', '2026-01-01T00:00:00Z'] })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'At most this many items (1 to 1000, default 100). A full page may have more behind it: ask again with its cursor.' }))
}, { additionalProperties: false })

export const RevocationItem = Type.Object({
  sid: Type.Optional(Type.String({ description: 'A revoked session: every token with this `sid` is dead.', examples: ['c2a4e6f8-1b3d-4f5a-8c7e-9d0b1a2c3e4f'] })),
  sub: Type.Optional(Type.String({ description: 'A user (or a deleted client) whose tokens issued up to `not_before` are dead: refuse a token when `iat * 1000 <= Date.parse(not_before)`.', examples: ['7f1c5f8e-8d8a-4f57-a8f1-0a4e1c3b7d21'] })),
  jti: Type.Optional(Type.String({ description: 'A client access token revoked through `POST /oauth/revoke`: the token with this `jti` is dead. Keep it until `not_before` plus the access-token lifetime; the token has expired by then.', examples: ['0b6f3f4e-2a8c-4d1e-9f7a-5c3b2a1d0e9f'] })),
  not_before: Type.String({ format: 'date-time', description: 'When the revocation took effect.' })
}, { additionalProperties: false, description: 'Exactly one of `sid`, `sub` and `jti`. A verifier should skip an item it does not understand rather than fail.' })

export const RevocationPage = Type.Object({
  items: Type.Array(RevocationItem, { description: 'Oldest first, in the order they were recorded.' }),
  cursor: Type.String({ description: 'Opaque. Pass it as `since` next time; it stays the same while nothing new happens.', examples: ['42'] })
}, { additionalProperties: false })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/revocations', {
    schema: {
      operationId: 'listRevocations',
      summary: 'The revocation feed',
      description: 'Revoked sessions (logout, a session ended by its user, refresh-token reuse, a password change ending the other sessions, OAuth revocation of a user token), revoked client access tokens (OAuth revocation of a client token, by `jti`) and per-user "not before" times (logout everywhere, password reset, ban, deactivation, deletion; and deleted clients), so that a service verifying tokens offline can honour them within its polling interval. Events are kept for the access-token lifetime plus 5 minutes: older ones concern only expired tokens. Requires a registered client: HTTP Basic with its id and secret, or one of its access tokens as Bearer.',
      tags: ['oauth'],
      security: [{ clientBasic: [] }, { clientBearer: [] }],
      querystring: RevocationsQuery,
      response: {
        200: { ...RevocationPage, description: 'A page of the feed.' },
        ...problems(
          [400, '`validation_failed`: `since` is neither a cursor nor a date-time, or a bad `limit`. `invalid_cursor`: `since` is a cursor this feed never handed out (above every cursor it has issued: a Unix time, or one kept from before the database was restored from a backup); read the feed again from the start, without `since`.'],
          [401, '`not_authenticated` (no credentials), `token_not_valid` (not a live client token) or `invalid_client` (wrong Basic credentials).'],
          RATE_LIMITED)
      }
    },
    // The per-address limit (an onRequest hook) runs first, so guessing client secrets is limited too.
    config: { rateLimit: fastify.perIpLimit(fastify.config.rateLimits.oauthPerIp) },
    preValidation: [fastify.authenticateServiceClient, integerQuery('limit')]
  }, async (request) => listRevocations(fastify.auth, { since: request.query.since, limit: request.query.limit ?? 100 }))
}

export default route
