// The social login's problems, and how a provider's failure becomes one.
import { ProblemError } from '../errors.js'

/** A provider answered in a way we cannot use, or not at all. */
export class ProviderFailure extends Error {
  constructor (readonly kind: 'unavailable' | 'invalid_response', message: string) {
    super(message)
    this.name = 'ProviderFailure'
  }
}

export const socialErrors = {
  unknownProvider: (name: string) =>
    new ProblemError(404, 'unknown_provider', `No social login provider "${name}" is enabled.`),
  invalidRedirect: (field = 'redirect_to') =>
    new ProblemError(400, 'invalid_redirect', `The ${field} is not an allowed redirect target.`, { errors: [{ field, message: 'is not in the allowed redirect list' }] }),
  invalidState: () =>
    new ProblemError(400, 'invalid_state', 'The login state is unknown, expired or already used; start the login again.'),
  invalidGrant: (detail = 'The provider refused the authorization code (wrong, expired or used code, or wrong code_verifier).') =>
    new ProblemError(400, 'invalid_grant', detail),
  accountExists: () =>
    new ProblemError(409, 'account_exists', 'An account with this email address exists, and the provider has not verified the address: log in with the password and link the provider.'),
  emailNotVerified: () =>
    new ProblemError(403, 'email_not_verified', 'The provider has not verified an email address for this identity, so no account can be created from it.'),
  alreadyLinked: () =>
    new ProblemError(409, 'already_linked', 'This provider identity is linked to another account, or this account has another identity of this provider linked.'),
  lastLoginMethod: () =>
    new ProblemError(409, 'last_login_method', 'This is the account\'s only way to log in: set a password or link another provider first.'),
  providerUnavailable: () =>
    new ProblemError(502, 'provider_unavailable', 'The login provider could not be reached or failed; try again later.'),
  providerError: () =>
    new ProblemError(502, 'provider_error', 'The login provider\'s answer failed validation.')
}

/** OAuth errors that mean the code or verifier the client brought is no good (RFC 6749 §5.2). */
const GRANT_ERRORS = new Set(['invalid_grant', 'invalid_request', 'bad_verification_code'])

function isNetworkFailure (err: unknown): boolean {
  const name = (err as Error)?.name
  // fetch() throws TypeError('fetch failed') for refused and reset connections; timeouts abort.
  return (err instanceof TypeError && (err as { code?: string }).code === undefined) || name === 'TimeoutError' || name === 'AbortError'
}

/**
 * Turns anything a provider exchange threw into a problem: the client's fault (400 invalid_grant),
 * the provider unreachable or failing (502 provider_unavailable), or an answer that failed
 * validation, such as a tampered or foreign ID token (502 provider_error). Domain problems pass through.
 */
export async function providerProblem (err: unknown): Promise<ProblemError> {
  if (err instanceof ProblemError) return err
  if (err instanceof ProviderFailure) return err.kind === 'unavailable' ? socialErrors.providerUnavailable() : socialErrors.providerError()
  // Already loaded by the provider that threw (never at start: see plugins/social.ts): its error classes.
  const oidc = await import('openid-client')
  if (err instanceof oidc.ResponseBodyError) {
    if (err.status >= 500) return socialErrors.providerUnavailable()
    return GRANT_ERRORS.has(err.error) ? socialErrors.invalidGrant() : socialErrors.providerError()
  }
  if (isNetworkFailure(err)) return socialErrors.providerUnavailable()
  if (err instanceof oidc.ClientError && err.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') {
    const status = ((err as { cause?: { status?: number } }).cause)?.status ?? 0
    return status >= 500 || status === 0 ? socialErrors.providerUnavailable() : socialErrors.providerError()
  }
  if (err instanceof oidc.ClientError || err instanceof oidc.AuthorizationResponseError || err instanceof oidc.WWWAuthenticateChallengeError) {
    return socialErrors.providerError()
  }
  throw err
}
