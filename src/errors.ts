// Domain errors with stable codes; plugins/error-handler.ts turns them into problem+json.
import { STATUS_CODES } from 'node:http'

export interface FieldError {
  field: string
  message: string
}

export class ProblemError extends Error {
  readonly statusCode: number
  readonly code: string
  readonly errors?: FieldError[]
  readonly headers: Record<string, string>

  constructor (statusCode: number, code: string, detail: string, options: { errors?: FieldError[], headers?: Record<string, string> } = {}) {
    super(detail)
    this.name = 'ProblemError'
    this.statusCode = statusCode
    this.code = code
    this.errors = options.errors
    this.headers = options.headers ?? {}
  }

  get title (): string {
    return STATUS_CODES[this.statusCode] ?? 'Error'
  }
}

const BEARER = 'Bearer realm="portcullis"'

export const errors = {
  validation: (errors: FieldError[], detail = 'The request is not valid.') =>
    new ProblemError(400, 'validation_failed', detail, { errors }),
  invalidCursor: () =>
    new ProblemError(400, 'invalid_cursor', 'This cursor was never issued by this feed (a restored database, or not a cursor): read the feed again from the start, without `since`.'),
  notAuthenticated: () =>
    new ProblemError(401, 'not_authenticated', 'Authentication credentials were not provided.', { headers: { 'www-authenticate': BEARER } }),
  tokenNotValid: (detail = 'The token is invalid or expired.') =>
    new ProblemError(401, 'token_not_valid', detail, { headers: { 'www-authenticate': `${BEARER}, error="invalid_token"` } }),
  userInactive: () =>
    new ProblemError(401, 'user_inactive', 'The account of this token is disabled, banned or deleted.', { headers: { 'www-authenticate': `${BEARER}, error="invalid_token"` } }),
  invalidClient: (detail = 'Client authentication failed.') =>
    new ProblemError(401, 'invalid_client', detail, { headers: { 'www-authenticate': 'Basic realm="portcullis", charset="UTF-8"' } }),
  invalidCredentials: () =>
    new ProblemError(401, 'invalid_credentials', 'No active account was found with the given credentials.', { headers: { 'www-authenticate': BEARER } }),
  wrongCurrentPassword: () =>
    new ProblemError(403, 'invalid_credentials', 'The current password is not correct.'),
  accountDisabled: () =>
    new ProblemError(403, 'account_disabled', 'This account is disabled.'),
  accountBanned: () =>
    new ProblemError(403, 'account_banned', 'This account is banned.'),
  emailNotVerified: () =>
    new ProblemError(403, 'email_not_verified', 'The email address of this account is not verified yet.'),
  permissionDenied: (missing: string[] = []) =>
    new ProblemError(403, 'permission_denied', missing.length > 0
      ? `You do not have permission to perform this action (missing: ${missing.join(', ')}).`
      : 'You do not have permission to perform this action.'),
  permissionDeniedBecause: (detail: string) =>
    new ProblemError(403, 'permission_denied', detail),
  groupExists: () =>
    new ProblemError(409, 'group_exists', 'A group with this name already exists.', { errors: [{ field: 'name', message: 'is already taken' }] }),
  permissionExists: () =>
    new ProblemError(409, 'permission_exists', 'A permission with this codename already exists.', { errors: [{ field: 'codename', message: 'already exists' }] }),
  csrfFailed: () =>
    new ProblemError(403, 'csrf_failed', 'The request origin is not allowed to use the refresh cookie.'),
  emailTaken: () =>
    new ProblemError(409, 'email_taken', 'An account with this email address already exists.', { errors: [{ field: 'email', message: 'is already registered' }] }),
  usernameTaken: () =>
    new ProblemError(409, 'username_taken', 'This username is already taken.', { errors: [{ field: 'username', message: 'is already taken' }] }),
  notFound: (detail = 'Not found.') =>
    new ProblemError(404, 'not_found', detail),
  keyConfigured: (detail: string) =>
    new ProblemError(409, 'key_configured', detail),
  rateLimited: (retryAfterSeconds: number) =>
    new ProblemError(429, 'rate_limited', `Too many requests; try again in ${retryAfterSeconds} seconds.`, { headers: { 'retry-after': String(retryAfterSeconds) } }),
  invalidToken: (detail = 'The token is invalid, expired or already used.') =>
    new ProblemError(400, 'invalid_token', detail),
  invalidMfaToken: () =>
    new ProblemError(401, 'invalid_mfa_token', 'The mfa_token is unknown, expired or already used: log in again.', { headers: { 'www-authenticate': BEARER } }),
  invalidMfaCode: (status: 400 | 401 = 401) =>
    new ProblemError(status, 'invalid_mfa_code', 'The code is wrong, expired or already used.', status === 401 ? { headers: { 'www-authenticate': BEARER } } : {}),
  invalidCredential: (status: 400 | 401, detail = 'The passkey response is not valid: it answers no live challenge, is for another site, or its signature or counter is wrong.') =>
    new ProblemError(status, 'invalid_credential', detail, status === 401 ? { headers: { 'www-authenticate': BEARER } } : {}),
  noPasskey: () =>
    new ProblemError(409, 'no_passkey', 'This account has no passkey: answer with another second factor.'),
  alreadyEnrolled: () =>
    new ProblemError(409, 'already_enrolled', 'An authenticator app is already set up for this account; remove it first.'),
  noSecondFactor: () =>
    new ProblemError(409, 'no_second_factor', 'This account has no second factor: set up an authenticator app first.'),
  stepUpRequired: () =>
    // RFC 9470: the client knows to ask for a second factor and retry with the raised token.
    new ProblemError(401, 'step_up_required', 'This operation needs a second factor: raise this session with POST /api/auth/mfa/step-up first.',
      { headers: { 'www-authenticate': `${BEARER}, error="insufficient_user_authentication", error_description="A second factor is required", acr_values="aal2"` } }),
  mfaEnrolmentRequired: () =>
    new ProblemError(403, 'mfa_enrolment_required', 'This account must set up a second factor before it can do this.'),
  mfaUnavailable: (detail = 'Authenticator apps are not available: the server has no KEY_ENCRYPTION_KEY to store their secrets encrypted.') =>
    new ProblemError(503, 'mfa_unavailable', detail),
  notReady: (detail = 'The database does not answer.') =>
    new ProblemError(503, 'not_ready', detail),
  serverBusy: () =>
    new ProblemError(503, 'server_busy', 'The server is busy; try again shortly.', { headers: { 'retry-after': '1' } })
}
