// keys/: signing key material, the in-memory key ring, its sources, rotation and publication schedule.
// The key ring in memory: signs with the current key, verifies by kid, serves the JWKS, and re-reads
// the stored keys on demand so that a rotation made by another process (the CLI) takes effect here.
import { createHash } from 'node:crypto'
import { createVerifier } from 'fast-jwt'
import { importPKCS8, SignJWT, type CryptoKey, type JWK } from 'jose'
import { ACCESS_TOKEN_TYPE, SIGNED_TOKEN_CLAIMS } from '../sessions/access-tokens.js'
import type { Config, SigningAlgorithm } from '../config.js'
import { isPublished, nextChange, signerAt, type KeyTimes, type ScheduledKey } from './schedule.js'
import { checkTimeClaims } from './time-claims.js'

export interface RingKey extends ScheduledKey {
  /** '' for the HS256 secret: its tokens carry no kid. */
  kid: string
  algorithm: SigningAlgorithm
  /** PKCS#8 PEM, or the HS256 secret. */
  signingKey: string
  /** SPKI PEM, or the HS256 secret. */
  verifyingKey: string
  /** What the JWKS shows; none for the HS256 secret, which is never published. */
  publicJwk?: JWK
}

type Verifier = (token: string) => Record<string, unknown>

interface View {
  /** The view holds until this time (ms): then a key starts or stops signing, or leaves the JWKS. */
  validUntil: number
  signer: RingKey
  /** The keys whose tokens are accepted now, by kid: exactly the published ones (and the HS256 secret). */
  accepted: Map<string, RingKey>
  jwks: { keys: JWK[] }
  etag: string
  /** Header segments of tokens that verified under this view → their key's verifier. */
  byHeader: Map<string, Verifier>
  /**
   * Tokens whose signature, issuer, audience and type checked out under this view → their claims.
   * Per view: when a key stops being accepted, its tokens are verified again (and refused). Their
   * time claims are still checked on every use (verify).
   */
  verified: Map<string, Record<string, unknown>>
}

export interface KeyRingOptions {
  config: Config
  times: KeyTimes
  /** Reads the keys (the stored ones and the configured one). */
  load (): Promise<RingKey[]>
  now (): Date
  warn (message: string): void
}

/** An unknown kid triggers a reload at most this often: garbage kids cannot hammer the database. */
const UNKNOWN_KID_RELOAD_MS = 1000
/** Distinct token headers remembered per view: tokens of one key share one header. */
const HEADER_CACHE_SIZE = 64
/**
 * Verified tokens remembered per view, keyed by the token itself (exact; fast-jwt's own cache keys
 * by a SHA-2 digest of it, ~4 % of the CPU of a GET /api/auth/me). At most ~10 MB of ~1 kB tokens.
 */
const VERIFIED_CACHE_SIZE = 10_000

export class KeyRing {
  private keys: RingKey[] = []
  private view: View | undefined
  private lastSigner: RingKey | undefined
  private loading: Promise<void> | undefined
  private lastUnknownKidReload = 0
  /** Signing keys imported for WebCrypto, by kid. */
  private readonly signingKeys = new Map<string, Promise<CryptoKey | Uint8Array>>()
  private readonly verifiers = new Map<string, Verifier>()

  constructor (private readonly options: KeyRingOptions) {}

  /** Re-reads the keys; concurrent calls share one read. */
  reload (): Promise<void> {
    this.loading ??= this.options.load()
      .then(keys => {
        this.keys = keys
        this.view = undefined
      })
      .finally(() => { this.loading = undefined })
    return this.loading
  }

  /** The keys as last loaded. */
  get loaded (): readonly RingKey[] {
    return this.keys
  }

  private current (): View {
    const now = this.options.now().getTime()
    if (this.view === undefined || now >= this.view.validUntil) this.view = this.compute(now)
    return this.view
  }

  private compute (now: number): View {
    const { config, times } = this.options
    let signer = signerAt(this.keys, config.jwtAlgorithm, now)
    if (signer === undefined) {
      // Only when the keys in the database were changed under this process's configuration (another
      // process with another JWT_ALGORITHM): keep signing with the last key rather than not at all.
      if (this.lastSigner === undefined) throw new Error(`no signing key of algorithm ${config.jwtAlgorithm}`)
      this.options.warn(`no live ${config.jwtAlgorithm} key in the key ring; still signing with ${this.lastSigner.kid}`)
      signer = this.lastSigner
    }
    this.lastSigner = signer
    const accepted = new Map<string, RingKey>()
    for (const key of this.keys) if (isPublished(key, now, times)) accepted.set(key.kid, key)
    accepted.set(signer.kid, signer)
    const published = [signer, ...[...accepted.values()].filter(k => k !== signer)]
    const jwks = { keys: published.flatMap(k => k.publicJwk === undefined ? [] : [k.publicJwk]) }
    const etag = `"${createHash('sha256').update(JSON.stringify(jwks)).digest('base64url').slice(0, 27)}"`
    return { validUntil: nextChange(this.keys, now, times), signer, accepted, jwks, etag, byHeader: new Map(), verified: new Map() }
  }

  /** The JWKS now, and its strong ETag. */
  jwks (): { body: { keys: JWK[] }, etag: string } {
    const view = this.current()
    return { body: view.jwks, etag: view.etag }
  }

  /** The kid new tokens are signed with ('' for HS256). */
  get signingKid (): string {
    return this.current().signer.kid
  }

  /**
   * Signs an access token with the current key: RFC 9068 header, iss, aud, iat and exp added.
   * Through WebCrypto (jose), whose signatures run on libuv's thread pool: an RS256 signature costs
   * about 0.7 ms of CPU, which on the event loop would hold up every other request (the refresh
   * flood of issue 14); there it uses the other core.
   */
  async sign (payload: object): Promise<string> {
    const key = this.current().signer
    const { config } = this.options
    // Date.now, not the injected clock: verification checks exp against the real one (see verify).
    const iat = Math.floor(Date.now() / 1000)
    return new SignJWT({ ...payload })
      .setProtectedHeader({ alg: key.algorithm, typ: ACCESS_TOKEN_TYPE, ...(key.kid !== '' && { kid: key.kid }) })
      .setIssuer(config.jwtIssuer)
      .setAudience(config.jwtAudience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + config.accessTokenTtl)
      .sign(await this.signingKeyOf(key))
  }

  private signingKeyOf (key: RingKey): Promise<CryptoKey | Uint8Array> {
    let imported = this.signingKeys.get(key.kid)
    if (imported === undefined) {
      imported = key.algorithm === 'HS256'
        ? Promise.resolve(new TextEncoder().encode(key.signingKey))
        : importPKCS8(key.signingKey, key.algorithm)
      // A failed import is not remembered: the next token tries again.
      imported.catch(() => this.signingKeys.delete(key.kid))
      this.signingKeys.set(key.kid, imported)
    }
    return imported
  }

  /**
   * Verifies an access token: its kid must name an accepted key, and the algorithm, signature,
   * type, issuer, audience, required claims and time claims must check out. Throws when it is not valid.
   */
  async verify (token: string): Promise<Record<string, unknown>> {
    const claims = await this.verifySignature(token)
    // Date.now, not the injected clock: sign stamps iat, and fast-jwt checks exp, by the real one.
    checkTimeClaims(claims, this.options.config.accessTokenTtl, Date.now())
    return claims
  }

  private async verifySignature (token: string): Promise<Record<string, unknown>> {
    const view = this.current()
    // The hot path: a token verified before under this view, which fast-jwt would still accept now.
    const cached = view.verified.get(token)
    if (cached !== undefined && inTimeWindow(cached, Date.now())) return cached
    const header = token.slice(0, token.indexOf('.'))
    // Next: a header seen before under this view names an accepted key.
    const known = view.byHeader.get(header)
    if (known !== undefined) return this.remember(view, token, known(token))

    const kid = kidOf(header)
    let key = kid === undefined ? undefined : view.accepted.get(kid)
    if (key === undefined && kid !== undefined && kid !== '' && await this.reloadForUnknownKid()) {
      key = this.current().accepted.get(kid)
    }
    // An unknown kid is simply an invalid token: no fallback to another key (RFC 8725 §3.10).
    if (key === undefined) throw new Error('unknown signing key')
    const verifier = this.verifierFor(key)
    const claims = verifier(token)
    // Remembered only once the signature checked out, so that nobody else can fill the cache.
    if (view.byHeader.size >= HEADER_CACHE_SIZE) view.byHeader.clear()
    view.byHeader.set(header, verifier)
    return this.remember(view, token, claims)
  }

  /** Only tokens that verified get here, so nobody else can fill the cache; the oldest goes first. */
  private remember (view: View, token: string, claims: Record<string, unknown>): Record<string, unknown> {
    if (view.verified.size >= VERIFIED_CACHE_SIZE) view.verified.delete(view.verified.keys().next().value as string)
    view.verified.set(token, claims)
    return claims
  }

  private verifierFor (key: RingKey): Verifier {
    let verifier = this.verifiers.get(key.kid)
    if (verifier === undefined) {
      const { config } = this.options
      // RFC 8725: the algorithm is the key's own, claims required, issuer, audience and type checked.
      verifier = createVerifier({
        key: key.verifyingKey,
        algorithms: [key.algorithm],
        allowedIss: config.jwtIssuer,
        allowedAud: config.jwtAudience,
        requiredClaims: SIGNED_TOKEN_CLAIMS,
        checkTyp: ACCESS_TOKEN_TYPE
        // No cache of fast-jwt's: the view remembers verified tokens (View.verified).
      }) as Verifier
      this.verifiers.set(key.kid, verifier)
    }
    return verifier
  }

  /** Reloads for a token naming a kid this process does not know, at most once a second. */
  private async reloadForUnknownKid (): Promise<boolean> {
    if (this.loading !== undefined) {
      await this.loading.catch(() => {})
      return true
    }
    const now = Date.now()
    if (now - this.lastUnknownKidReload < UNKNOWN_KID_RELOAD_MS) return false
    this.lastUnknownKidReload = now
    try {
      await this.reload()
      return true
    } catch (err) {
      this.options.warn(`reloading the key ring failed: ${(err as Error).message}`)
      return false
    }
  }
}

/**
 * Whether a remembered token is clearly inside its exp/nbf window. The one second of margin leaves
 * the edge to fast-jwt's own check: a token near or past its expiry is verified again (and refused).
 */
function inTimeWindow (claims: Record<string, unknown>, nowMs: number): boolean {
  const { exp, nbf } = claims as { exp: number, nbf?: number }
  return nowMs < exp * 1000 - 1000 && (nbf === undefined || nbf * 1000 <= nowMs)
}

/** The kid of a token's header segment: '' when it has none, undefined when the header is not JSON. */
function kidOf (header: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'))
    if (parsed === null || typeof parsed !== 'object') return undefined
    const kid = (parsed as { kid?: unknown }).kid
    if (kid === undefined) return ''
    return typeof kid === 'string' && kid !== '' ? kid : undefined
  } catch {
    return undefined
  }
}
