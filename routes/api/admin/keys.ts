// /api/admin/keys: the signing key ring, and rotating it. Superusers only: whoever rotates keys
// decides which tokens every service accepts, and no grantable permission should carry that.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { describeKeys, keySource, keyView, rotateSigningKey } from '../../../src/keys/rotation.js'
import { emptyBodyAsObject } from '../../../src/http/optional-body.js'
import { bodyErrors, problems, UNAUTHENTICATED } from '../../../src/schemas/responses.js'
import { nullable, ref } from '../../../src/schemas/shared.js'

const KID_EXAMPLE = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
const TIME_EXAMPLE = '2026-11-21T19:00:00.000Z'

export const SigningKey = Type.Object({
  kid: Type.String({ description: 'Key id: the RFC 7638 thumbprint, as in the JWKS and in token headers.', examples: [KID_EXAMPLE] }),
  algorithm: Type.String({ description: 'RS256, ES256 or EdDSA.', examples: ['RS256'] }),
  status: Type.Union([Type.Literal('active'), Type.Literal('next'), Type.Literal('retired'), Type.Literal('expired')], {
    description: '`active` signs new tokens; `next` is published and signs from `signs_from`; `retired` no longer signs but is published until `published_until`; `expired` is neither published nor accepted.',
    examples: ['active']
  }),
  published: Type.Boolean({ description: 'Whether it is in the JWKS now (and tokens it signed are accepted).' }),
  source: Type.Union([Type.Literal('database'), Type.Literal('configuration')], { description: '`configuration`: JWT_PRIVATE_KEY(_FILE), which only a change of configuration can rotate.' }),
  created_at: nullable(Type.String({ format: 'date-time', description: 'When it was generated; null for a configured key.', examples: [TIME_EXAMPLE] })),
  signs_from: nullable(Type.String({ format: 'date-time', description: 'When it starts (or started) signing; null for a configured key, or a key of another algorithm.', examples: [TIME_EXAMPLE] })),
  retired_at: nullable(Type.String({ format: 'date-time', description: 'When it stops (or stopped) signing; null while no rotation is scheduled.', examples: [null] })),
  published_until: nullable(Type.String({ format: 'date-time', description: '`retired_at` plus the access-token lifetime and a margin; null while not retired.', examples: [null] }))
}, { $id: 'SigningKey', additionalProperties: false, description: 'A signing key: public facts only, never key material.' })

export const KeyRing = Type.Object({
  algorithm: Type.String({ description: 'JWT_ALGORITHM: what new keys are generated with.', examples: ['RS256'] }),
  source: Type.Union([Type.Literal('database'), Type.Literal('configuration')], { description: '`database`: generated, stored and rotatable here; `configuration`: JWT_PRIVATE_KEY(_FILE) or the HS256 JWT_SECRET, rotated by changing the configuration.' }),
  rotation_interval: nullable(Type.Integer({ description: 'JWT_KEY_ROTATION_INTERVAL in seconds; null when keys rotate only on demand.', examples: [null] })),
  keys: Type.Array(ref(SigningKey), { description: 'Newest first (a configured key first); empty with HS256.' })
}, { $id: 'KeyRing', additionalProperties: false, description: 'The key ring.' })

export const RotateKeyBody = Type.Object({
  immediate: Type.Optional(Type.Boolean({ description: 'Sign with the new key at once instead of after the JWKS max-age: for a key that must stop signing now. Verifiers that cached the JWKS refuse the new tokens until they fetch it again.', default: false }))
}, { additionalProperties: false, description: 'Optional.', examples: [{}, { immediate: true }] })

export const Rotation = Type.Object({
  kid: Type.String({ description: 'The new key, published now.', examples: [KID_EXAMPLE] }),
  signs_from: Type.String({ format: 'date-time', description: 'When it starts signing (and the previous key retires): after JWKS_MAX_AGE plus JWT_KEY_RELOAD_INTERVAL, or now with `immediate`.', examples: [TIME_EXAMPLE] }),
  retired: Type.Array(Type.String(), { description: 'The keys that stop signing then.', examples: [['XBn7W0AkTIG1KYzAfBSgvWQtA1sbJx_5LlQWwxMBJ3M']] })
}, { additionalProperties: false, description: 'The rotation.' })

const SUPERUSER_ONLY: [number, string] = [403, '`permission_denied`: only a superuser manages signing keys.']
const KEY_CONFIGURED: [number, string] = [409, '`key_configured`: the signing key comes from JWT_PRIVATE_KEY(_FILE) or JWT_SECRET (HS256); rotate it in the configuration.']

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.addSchema(SigningKey)
  fastify.addSchema(KeyRing)
  const guard = [fastify.authenticate, fastify.requireSuperuser]

  fastify.get('/keys', {
    schema: {
      operationId: 'listSigningKeys',
      summary: 'List the signing keys',
      description: 'Superusers only. The keys that sign, will sign, or are still published, and those kept after (until pruned).',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      response: {
        200: { ...ref(KeyRing), description: 'The key ring.' },
        ...problems(UNAUTHENTICATED, SUPERUSER_ONLY)
      }
    },
    onRequest: guard
  }, async () => {
    const { config } = fastify
    const keys = await describeKeys(fastify.auth, fastify.configuredKid)
    return {
      algorithm: config.jwtAlgorithm,
      source: keySource(config),
      rotation_interval: config.jwtKeyRotationInterval === 0 ? null : config.jwtKeyRotationInterval,
      keys: keys.map(keyView)
    }
  })

  fastify.post('/keys/rotate', {
    schema: {
      operationId: 'rotateSigningKey',
      summary: 'Rotate the signing key',
      description: 'Superusers only. Generates a key of JWT_ALGORITHM and publishes it at once; it starts signing once verifiers that cached the JWKS have had time to fetch it again (JWKS_MAX_AGE plus JWT_KEY_RELOAD_INTERVAL), or at once with `immediate`. The previous key retires then and stays published until every token it signed has expired. Other server processes pick the change up within JWT_KEY_RELOAD_INTERVAL.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      body: RotateKeyBody,
      response: {
        200: { ...Rotation, description: 'The new key and when it signs.' },
        ...problems(...bodyErrors, UNAUTHENTICATED, SUPERUSER_ONLY, KEY_CONFIGURED)
      }
    },
    onRequest: guard,
    preValidation: emptyBodyAsObject
  }, async (request) => {
    const rotation = await rotateSigningKey(fastify.auth, { immediate: request.body.immediate === true })
    // This process serves the new key at once; the others on their next reload.
    await fastify.keyRing.reload()
    return { kid: rotation.kid, signs_from: rotation.signsFrom.toISOString(), retired: rotation.retired }
  })
}

export default route
