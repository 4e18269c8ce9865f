// Loads the signing keys and wires @fastify/jwt: RFC 9068 access tokens, algorithm pinned, claims required.
import fp from 'fastify-plugin'
import jwt, { type FastifyJWTOptions } from '@fastify/jwt'
import { createDecoder, createVerifier } from 'fast-jwt'
import type { JWK } from 'jose'
import { ACCESS_TOKEN_TYPE, REQUIRED_CLAIMS, type AccessTokenClaims } from '../src/access-tokens.js'
import { loadKeySet } from '../src/signing-keys.js'

export interface VerifiedAccessToken extends AccessTokenClaims {
  iss: string
  aud: string
  iat: number
  exp: number
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The public keys for the JWKS (empty with HS256: a shared secret is never published). */
    publicJwks: JWK[]
    signAccessToken (claims: AccessTokenClaims): string
    /**
     * Whether the token's header names a published key. With one key the signature check does not
     * look at `kid`, and an unknown kid must still be refused (RFC 8725 §3.10: no guessing).
     */
    hasKnownKid (token: string): boolean
    /** Verifies a token given other than in the Authorization header; throws when it is not valid. */
    verifyAccessToken (token: string): Promise<VerifiedAccessToken>
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessTokenClaims
    user: VerifiedAccessToken
  }
}

export default fp(async function keys (fastify) {
  const { config } = fastify
  let privateKey: string
  let publicKeyFor: (kid: unknown) => string
  let kid: string | undefined
  let publishedCount = 1
  const publicPems = new Map<string, string>()

  if (config.jwtAlgorithm === 'HS256') {
    const secret = config.jwtSecret as string
    privateKey = secret
    publicKeyFor = () => secret
    fastify.decorate('publicJwks', [])
  } else {
    const keySet = await loadKeySet({
      algorithm: config.jwtAlgorithm,
      configuredKey: config.jwtPrivateKey,
      repository: fastify.repositories.signingKeys,
      now: new Date(),
      retentionMs: (config.accessTokenTtl + 300) * 1000
    })
    for (const key of keySet.published) publicPems.set(key.kid, key.publicPem)
    privateKey = keySet.active.privatePem
    kid = keySet.active.kid
    publicKeyFor = (tokenKid) => {
      // An unknown kid is simply an invalid token: no fallback to the active key.
      const pem = typeof tokenKid === 'string' ? publicPems.get(tokenKid) : undefined
      if (pem === undefined) throw new Error('unknown signing key')
      return pem
    }
    publishedCount = keySet.published.length
    fastify.decorate('publicJwks', keySet.published.map(k => k.publicJwk))
  }

  const verifyOptions = {
    // RFC 8725: pin the algorithm, require the claims, check issuer, audience and the token type.
    algorithms: [config.jwtAlgorithm],
    allowedIss: config.jwtIssuer,
    allowedAud: config.jwtAudience,
    requiredClaims: REQUIRED_CLAIMS,
    checkTyp: ACCESS_TOKEN_TYPE,
    cache: 10_000
  }

  // fast-jwt takes `typ` and `checkTyp`; @fastify/jwt's types do not list them yet.
  const signOptions = {
    algorithm: config.jwtAlgorithm,
    ...(kid !== undefined && { kid }),
    typ: ACCESS_TOKEN_TYPE,
    iss: config.jwtIssuer,
    aud: config.jwtAudience,
    // @fastify/jwt reads a number here as seconds.
    expiresIn: config.accessTokenTtl
  } as FastifyJWTOptions['sign']

  // With one live key, a static public key lets @fastify/jwt use its single cached verifier (the
  // common case, and the fast one); with several, the key is picked by the token's kid.
  const staticPublicKey = publishedCount === 1 ? publicKeyFor(kid) : undefined
  await fastify.register(jwt, {
    secret: {
      private: privateKey,
      // Must return a Promise (or call back): @fastify/jwt ignores a plain return value.
      public: staticPublicKey ?? (async (_request: unknown, token: unknown) => publicKeyFor((token as { header?: { kid?: unknown } }).header?.kid))
    },
    decode: { complete: true },
    sign: signOptions,
    verify: verifyOptions as FastifyJWTOptions['verify']
    // No `cookie` option: the refresh cookie must never be read as an access token.
  })

  fastify.decorate('signAccessToken', (claims: AccessTokenClaims) => fastify.jwt.sign(claims))
  // Header segments of verified tokens with a known kid: tokens of one key share one header, so this
  // stays tiny; call it only after the signature checked out, so nobody else can fill it.
  const knownHeaders = new Set<string>()
  fastify.decorate('hasKnownKid', (token: string) => {
    if (kid === undefined) return true
    const header = token.slice(0, token.indexOf('.'))
    if (knownHeaders.has(header)) return true
    let tokenKid: unknown
    try {
      tokenKid = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')).kid
    } catch {
      return false
    }
    if (typeof tokenKid !== 'string' || !publicPems.has(tokenKid)) return false
    if (knownHeaders.size >= 64) knownHeaders.clear()
    knownHeaders.add(header)
    return true
  })

  // Tokens given in a body (token/verify) use the same options, with one cached verifier per key:
  // @fastify/jwt would build a new verifier on every call when given a key.
  const decodeHeader = createDecoder({ complete: true })
  const verifiers = new Map<string, (token: string) => VerifiedAccessToken>()
  fastify.decorate('verifyAccessToken', async (token: string) => {
    const tokenKid = (decodeHeader(token) as { header: { kid?: unknown } }).header.kid
    const cacheKey = typeof tokenKid === 'string' ? tokenKid : ''
    let verifier = verifiers.get(cacheKey)
    if (verifier === undefined) {
      verifier = createVerifier({ ...verifyOptions, key: publicKeyFor(tokenKid) })
      verifiers.set(cacheKey, verifier)
    }
    return verifier(token)
  })
}, { name: 'keys', dependencies: ['config', 'db'] })
