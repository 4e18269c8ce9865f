// GET /.well-known/jwks.json and /.well-known/openid-configuration: what token verifiers need.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

export const autoPrefix = '/.well-known'

const Jwk = Type.Object({
  kty: Type.String({ description: 'Key type: RSA, EC or OKP.', examples: ['RSA'] }),
  kid: Type.String({ description: 'Key id: the RFC 7638 thumbprint, matched against the token header.', examples: ['NjVBRjY5MDlCMUIwNzU4RTA2QzZFMDQ4QzQ2MDAyQjVDNjk1RTM2Qg'] }),
  alg: Type.String({ description: 'RS256, ES256 or EdDSA.', examples: ['RS256'] }),
  use: Type.Literal('sig', { description: 'Always `sig`.' }),
  n: Type.Optional(Type.String({ description: 'RSA modulus.', examples: ['0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw'] })),
  e: Type.Optional(Type.String({ description: 'RSA exponent.', examples: ['AQAB'] })),
  crv: Type.Optional(Type.String({ description: 'Curve: P-256 or Ed25519.', examples: ['P-256'] })),
  x: Type.Optional(Type.String({ description: 'Curve point x.', examples: ['f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU'] })),
  y: Type.Optional(Type.String({ description: 'Curve point y (EC only).', examples: ['x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0'] }))
}, { $id: 'Jwk', additionalProperties: false, description: 'A public signing key. Private members are never published.' })

const Jwks = Type.Object({
  keys: Type.Array(Type.Unsafe(Type.Ref('Jwk')), { description: 'Every public key that may have signed a live token.' })
}, { $id: 'Jwks', additionalProperties: false })

const DiscoveryDocument = Type.Object({
  issuer: Type.String({ description: 'The `iss` of every token.' }),
  jwks_uri: Type.String({ description: 'Where the public keys are.' }),
  token_endpoint: Type.String({ description: 'Refresh endpoint (token rotation).' }),
  revocation_endpoint: Type.String({ description: 'Logout endpoint.' }),
  userinfo_endpoint: Type.String({ description: 'The signed-in user.' }),
  registration_endpoint: Type.String({ description: 'Account registration.' }),
  login_endpoint: Type.String({ description: 'Password login.' }),
  token_verification_endpoint: Type.String({ description: 'Online check of an access token.' }),
  id_token_signing_alg_values_supported: Type.Array(Type.String(), { description: 'The signing algorithm of issued tokens.' }),
  access_token_signing_alg_values_supported: Type.Array(Type.String(), { description: 'The signing algorithm of issued tokens.' }),
  subject_types_supported: Type.Array(Type.String(), { description: 'Always `public`.' }),
  response_types_supported: Type.Array(Type.String(), { description: 'No browser authorization flow here yet.' }),
  grant_types_supported: Type.Array(Type.String(), { description: 'Grants this service issues tokens for.' }),
  audience: Type.String({ description: 'The `aud` of every access token.' })
}, {
  additionalProperties: false,
  examples: [{
    issuer: 'https://auth.example.com',
    jwks_uri: 'https://auth.example.com/.well-known/jwks.json',
    token_endpoint: 'https://auth.example.com/api/auth/token/refresh',
    revocation_endpoint: 'https://auth.example.com/api/auth/logout',
    userinfo_endpoint: 'https://auth.example.com/api/auth/me',
    registration_endpoint: 'https://auth.example.com/api/auth/register',
    login_endpoint: 'https://auth.example.com/api/auth/login',
    token_verification_endpoint: 'https://auth.example.com/api/auth/token/verify',
    id_token_signing_alg_values_supported: ['RS256'],
    access_token_signing_alg_values_supported: ['RS256'],
    subject_types_supported: ['public'],
    response_types_supported: [],
    grant_types_supported: ['password', 'refresh_token'],
    audience: 'portcullis'
  }]
})

/** If-None-Match (RFC 9110 §13.1.2): `*`, or a list of tags compared weakly (W/ ignored). */
function matchesEtag (header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  if (header.trim() === '*') return true
  return header.split(',').some(tag => tag.trim().replace(/^W\//, '') === etag)
}

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.addSchema(Jwk)
  fastify.addSchema(Jwks)
  const { config } = fastify
  // A rotated key is published JWKS_MAX_AGE (plus the reload interval) before it signs, so a
  // verifier that honours max-age always holds it in time; on an unknown kid it may fetch again.
  const cacheControl = `public, max-age=${config.jwksMaxAge}`

  fastify.get('/jwks.json', {
    schema: {
      operationId: 'getJwks',
      summary: 'The public keys that verify access tokens',
      description: 'The active key first, then a rotated key that will sign after `max-age` has passed, then retired keys while tokens they signed may still be live. Cache it for the `max-age`; on a token with an unknown `kid`, fetch again. Empty with HS256 (a shared secret is never published).',
      tags: ['keys'],
      response: {
        200: { ...Type.Unsafe<{ keys: object[] }>(Type.Ref('Jwks')), description: 'The key set, with `Cache-Control: public, max-age` and an `ETag`.' },
        304: Type.Null({ description: 'Not modified (If-None-Match).' })
      }
    }
  }, async (request, reply) => {
    const { body, etag } = fastify.keyRing.jwks()
    reply.header('cache-control', cacheControl).header('etag', etag)
    if (matchesEtag(request.headers['if-none-match'], etag)) return reply.code(304).send(null)
    return body
  })

  const base = config.publicUrl
  const discovery = {
    issuer: config.jwtIssuer,
    jwks_uri: `${base}/.well-known/jwks.json`,
    token_endpoint: `${base}/api/auth/token/refresh`,
    revocation_endpoint: `${base}/api/auth/logout`,
    userinfo_endpoint: `${base}/api/auth/me`,
    registration_endpoint: `${base}/api/auth/register`,
    login_endpoint: `${base}/api/auth/login`,
    token_verification_endpoint: `${base}/api/auth/token/verify`,
    id_token_signing_alg_values_supported: [config.jwtAlgorithm],
    access_token_signing_alg_values_supported: [config.jwtAlgorithm],
    subject_types_supported: ['public'],
    response_types_supported: [],
    grant_types_supported: ['password', 'refresh_token'],
    audience: config.jwtAudience
  }

  fastify.get('/openid-configuration', {
    schema: {
      operationId: 'getDiscoveryDocument',
      summary: 'Discovery document: issuer, key set, endpoints, algorithms',
      tags: ['keys'],
      response: { 200: { ...DiscoveryDocument, description: 'The discovery document.' } }
    }
  }, async (_request, reply) => {
    reply.header('cache-control', cacheControl)
    return discovery
  })
}

export default route
