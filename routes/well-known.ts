// GET /.well-known/jwks.json and the discovery metadata (OpenID and RFC 8414 addresses): what verifiers and OAuth clients need.
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

const AUTH_METHODS_DESCRIPTION = 'How a client authenticates: `client_secret_basic` (HTTP Basic, RFC 6749 §2.3.1) or `client_secret_post` (`client_id` and `client_secret` in the body).'
const authMethods = (what: string) => Type.Array(Type.String({ examples: ['client_secret_basic'] }), { description: `${what}: ${AUTH_METHODS_DESCRIPTION}` })

/**
 * RFC 8414 authorization server metadata, served at both discovery addresses. It lists what exists:
 * the client-credentials token endpoint, introspection and revocation. Portcullis issues no ID
 * tokens and has no authorization endpoint, so there are no ID-token algorithms, no userinfo and no
 * response types; users log in through the API (see the OpenAPI document), not an OAuth redirect.
 */
const DiscoveryDocument = Type.Object({
  issuer: Type.String({ description: 'The `iss` of every token (JWT_ISSUER); discovery clients check that it is the address they asked.' }),
  jwks_uri: Type.String({ description: 'The public keys that verify access tokens.' }),
  token_endpoint: Type.String({ description: 'Client access tokens (RFC 6749 §4.4, `client_credentials`).' }),
  grant_types_supported: Type.Array(Type.String({ examples: ['client_credentials'] }), { description: 'Grants of the token endpoint: `client_credentials` only. (User tokens come from the login and refresh API, which is not an OAuth grant.)' }),
  token_endpoint_auth_methods_supported: authMethods('The token endpoint'),
  introspection_endpoint: Type.String({ description: 'RFC 7662 token introspection, for registered clients.' }),
  introspection_endpoint_auth_methods_supported: authMethods('The introspection endpoint'),
  revocation_endpoint: Type.String({ description: 'RFC 7009 token revocation, for registered clients.' }),
  revocation_endpoint_auth_methods_supported: authMethods('The revocation endpoint'),
  response_types_supported: Type.Array(Type.String(), { description: 'Empty: there is no authorization endpoint, so no response type (RFC 8414 requires the member).' }),
  access_token_signing_alg_values_supported: Type.Array(Type.String({ examples: ['RS256'] }), { description: 'The algorithm that signs access tokens (JWT_ALGORITHM); pin it when verifying.' }),
  audience: Type.String({ description: 'The `aud` of every access token (JWT_AUDIENCE).' }),
  service_documentation: Type.Optional(Type.String({ description: 'Swagger UI, when DOCS_ENABLED.' }))
}, {
  additionalProperties: false,
  examples: [{
    issuer: 'https://auth.example.com',
    jwks_uri: 'https://auth.example.com/.well-known/jwks.json',
    token_endpoint: 'https://auth.example.com/oauth/token',
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    introspection_endpoint: 'https://auth.example.com/oauth/introspect',
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint: 'https://auth.example.com/oauth/revoke',
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    response_types_supported: [],
    access_token_signing_alg_values_supported: ['RS256'],
    audience: 'portcullis',
    service_documentation: 'https://auth.example.com/docs'
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
  const clientAuthMethods = ['client_secret_basic', 'client_secret_post']
  const discovery = {
    issuer: config.jwtIssuer,
    jwks_uri: `${base}/.well-known/jwks.json`,
    token_endpoint: `${base}/oauth/token`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: clientAuthMethods,
    introspection_endpoint: `${base}/oauth/introspect`,
    introspection_endpoint_auth_methods_supported: clientAuthMethods,
    revocation_endpoint: `${base}/oauth/revoke`,
    revocation_endpoint_auth_methods_supported: clientAuthMethods,
    response_types_supported: [],
    access_token_signing_alg_values_supported: [config.jwtAlgorithm],
    audience: config.jwtAudience,
    ...(config.docsEnabled && { service_documentation: `${base}/docs` })
  }

  // OpenID Connect discovery (what OIDC libraries fetch) and RFC 8414 (what OAuth 2 libraries
  // fetch): the same metadata, since both describe the same endpoints.
  const documents = [
    ['/openid-configuration', 'getDiscoveryDocument', 'Discovery document (OpenID Connect discovery address)'],
    ['/oauth-authorization-server', 'getAuthorizationServerMetadata', 'Authorization server metadata (RFC 8414 address)']
  ] as const
  for (const [path, operationId, summary] of documents) {
    fastify.get(path, {
      schema: {
        operationId,
        summary,
        description: 'RFC 8414 metadata: the issuer, the key set and the signing algorithm for token verifiers; the client-credentials token endpoint, introspection and revocation for service clients. No ID tokens are issued and there is no authorization endpoint: users log in through the API. `/.well-known/openid-configuration` and `/.well-known/oauth-authorization-server` serve the same document.',
        tags: ['keys'],
        response: { 200: { ...DiscoveryDocument, description: 'The metadata, with `Cache-Control: public, max-age`.' } }
      }
    }, async (_request, reply) => {
      reply.header('cache-control', cacheControl)
      return discovery
    })
  }
}

export default route
