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
 * The key set could not be fetched: not the client's fault, so not a 401 (a client that sees 401
 * throws its tokens away and logs the user out).
 */
export class VerifierUnavailableError extends Error {
  readonly code = 'verifier_unavailable'
  constructor (options?: { cause?: unknown }) {
    super('The signing keys of the token issuer cannot be fetched right now.', options)
    this.name = 'VerifierUnavailableError'
  }
}
