// The two ways verification fails: the token is not acceptable, or the verifier cannot decide.

/** The token is malformed, forged, expired, for someone else, of the wrong kind, or revoked. */
export class TokenInvalidError extends Error {
  readonly code = 'token_not_valid'
  constructor (readonly reason: string, options?: { cause?: unknown }) {
    super(`The token is not valid: ${reason}.`, options)
    this.name = 'TokenInvalidError'
  }
}

/**
 * The verifier cannot decide: the key set could not be fetched, or (with a fail-closed revocation
 * feed) the revocations are older than allowed. Not the client's fault, so not a 401 (a client that
 * sees 401 throws its tokens away and logs the user out).
 */
export class VerifierUnavailableError extends Error {
  readonly code = 'verifier_unavailable'
  constructor (options?: { cause?: unknown, message?: string }) {
    super(options?.message ?? 'The signing keys of the token issuer cannot be fetched right now.', options)
    this.name = 'VerifierUnavailableError'
  }
}

/**
 * The revocation feed refused the credentials (401 or 403): a configuration error (an unknown
 * client, a wrong secret, an expired Bearer token), not an outage.
 */
export class FeedConfigurationError extends Error {
  readonly code = 'feed_misconfigured'
  constructor (readonly status: number) {
    super(`The revocation feed refused this service's credentials (${status}): check the client id and secret (or the Authorization callback) given to createRevocationFeed.`)
    this.name = 'FeedConfigurationError'
  }
}
