// startIssuer(): a stand-in for Portcullis in downstream tests — a throwaway key, its JWKS,
// discovery, a revocation feed the test appends to, and mint() for tokens shaped like Portcullis's.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import type { Algorithm } from '../verify-token.js'
import type { RevocationItem } from '../revocation-list.js'
import type { VerifiedToken } from '../claims.js'

export interface LocalIssuerOptions {
  /** Default RS256, as Portcullis. */
  algorithm?: Algorithm
  /** Default "portcullis", as Portcullis's JWT_AUDIENCE. */
  audience?: string
  /** Default: the issuer's own URL (Portcullis's default is its PUBLIC_URL). */
  issuer?: string
  /** When set, the revocation feed answers 401 unless the request's Authorization header is exactly this. */
  feedAuthorization?: string
}

export interface MintOptions {
  /** Lifetime in seconds; default 300 (Portcullis's 5 minutes). Negative for an expired token. */
  expiresIn?: number
  /** Header fields to override (typ, kid, alg): for tokens that must be refused. */
  header?: { typ?: string, kid?: string, alg?: string }
  /** Sign with a key the JWKS does not publish. */
  unpublishedKey?: boolean
}

export type Claims = Partial<VerifiedToken> & Record<string, unknown>

export interface LocalIssuer {
  url: string
  issuer: string
  audience: string
  algorithm: Algorithm
  jwksUrl: string
  revocationsUrl: string
  /** A user access token: Portcullis's claims with sane defaults, overridden by `claims`. */
  mint (claims?: Claims, options?: MintOptions): Promise<string>
  /** A client-credentials token: sub = client_id, the scopes space-separated, no user claims. */
  mintClientToken (clientId: string, scopes: string[], options?: MintOptions): Promise<string>
  /** A new signing key; the old one stays published unless `retireOld`. Returns the new kid. */
  rotateKey (options?: { retireOld?: boolean }): Promise<string>
  /**
   * Appends to the revocation feed: `{ sid }` ends a session, `{ sub }` revokes the user's tokens
   * issued so far, `{ jti }` revokes one client token.
   */
  revoke (item: Partial<RevocationItem>): void
  /** false: the revocation feed answers 503 until set back. */
  setFeedAvailable (available: boolean): void
  /** The revocation feed answers this status (401 or 403: refused credentials) until called with undefined. */
  setFeedAnswer (status: number | undefined): void
  /**
   * Forgets the feed's items past `length`, as a Portcullis database restored from an older backup
   * would: a poller holding a later cursor is answered 400 invalid_cursor.
   */
  truncateFeed (length: number): void
  /** false: the JWKS answers 503 until set back (the issuer is down for the key set). */
  setJwksAvailable (available: boolean): void
  /** How many times each endpoint was asked. */
  requests: { jwks: number, discovery: number, revocations: number }
  close (): Promise<void>
}

interface SigningKey { kid: string, privateKey: CryptoKey, publicJwk: JWK }

async function newKey (algorithm: Algorithm): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true })
  const jwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(jwk)
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: algorithm, use: 'sig' } }
}

function sendJson (res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

export async function startIssuer (options: LocalIssuerOptions = {}): Promise<LocalIssuer> {
  const algorithm = options.algorithm ?? 'RS256'
  const audience = options.audience ?? 'portcullis'
  let current = await newKey(algorithm)
  let published = [current]
  const unpublished = await newKey(algorithm)
  const feed: RevocationItem[] = []
  let feedAvailable = true
  let feedAnswer: number | undefined
  let jwksAvailable = true
  const requests = { jwks: 0, discovery: 0, revocations: 0 }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' })
    switch (url.pathname) {
      case '/.well-known/jwks.json':
        requests.jwks++
        if (!jwksAvailable) return sendJson(res, 503, { error: 'unavailable' })
        return sendJson(res, 200, { keys: published.map(key => key.publicJwk) })
      case '/.well-known/openid-configuration':
        requests.discovery++
        return sendJson(res, 200, {
          issuer,
          jwks_uri: `${base}/.well-known/jwks.json`,
          access_token_signing_alg_values_supported: [algorithm],
          audience
        })
      case '/api/auth/revocations': {
        requests.revocations++
        if (!feedAvailable) return sendJson(res, 503, { error: 'unavailable' })
        if (feedAnswer !== undefined) return sendJson(res, feedAnswer, { status: feedAnswer, code: feedAnswer === 403 ? 'permission_denied' : 'invalid_client' })
        if (options.feedAuthorization !== undefined && req.headers.authorization !== options.feedAuthorization) {
          return sendJson(res, 401, { error: 'invalid_client' })
        }
        // The cursor is the position in the feed: the items after it, and the new end.
        const since = Number(url.searchParams.get('since') ?? '0')
        const from = Number.isInteger(since) && since >= 0 ? since : 0
        // As Portcullis: a cursor the feed never handed out is refused, so the poller starts over.
        if (from > feed.length) return sendJson(res, 400, { status: 400, code: 'invalid_cursor' })
        return sendJson(res, 200, { items: feed.slice(from), cursor: String(feed.length) })
      }
      default:
        return sendJson(res, 404, { error: 'not found' })
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const issuer = options.issuer ?? base

  async function sign (claims: Claims, mintOptions: MintOptions): Promise<string> {
    const key = mintOptions.unpublishedKey ? unpublished : current
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({ iss: issuer, aud: audience, iat: now, exp: now + (mintOptions.expiresIn ?? 300), jti: randomUUID(), ...claims })
      .setProtectedHeader({ alg: algorithm, typ: 'at+jwt', kid: key.kid, ...mintOptions.header })
      .sign(key.privateKey)
  }

  return {
    url: base,
    issuer,
    audience,
    algorithm,
    jwksUrl: `${base}/.well-known/jwks.json`,
    revocationsUrl: `${base}/api/auth/revocations`,
    requests,
    mint (claims = {}, mintOptions = {}) {
      const sub = typeof claims.sub === 'string' ? claims.sub : randomUUID()
      const username = typeof claims.username === 'string' ? claims.username : `user-${sub.slice(0, 8)}`
      return sign({
        sub,
        user_id: sub,
        sid: randomUUID(),
        token_type: 'access',
        email: `${username}@example.com`,
        username,
        email_verified: true,
        is_staff: false,
        groups: [],
        permissions: [],
        amr: ['pwd'],
        acr: 'aal1',
        ...claims
      }, mintOptions)
    },
    mintClientToken (clientId, scopes, mintOptions = {}) {
      return sign({ sub: clientId, client_id: clientId, scope: scopes.join(' '), token_type: 'access' }, mintOptions)
    },
    async rotateKey ({ retireOld = false } = {}) {
      current = await newKey(algorithm)
      published = retireOld ? [current] : [...published, current]
      return current.kid
    },
    revoke (item) {
      feed.push({ ...item, not_before: item.not_before ?? new Date().toISOString() })
    },
    setFeedAvailable (available) {
      feedAvailable = available
    },
    setFeedAnswer (status) {
      feedAnswer = status
    },
    truncateFeed (length) {
      feed.length = Math.min(length, feed.length)
    },
    setJwksAvailable (available) {
      jwksAvailable = available
    },
    async close () {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    }
  }
}
