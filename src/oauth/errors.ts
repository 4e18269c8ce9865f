// OAuth 2.0 errors (RFC 6749 §5.2): `{error, error_description}`, the form OAuth endpoints answer in
// instead of problem+json.
export class OAuthError extends Error {
  readonly headers: Record<string, string>

  constructor (readonly statusCode: number, readonly error: string, description: string, headers: Record<string, string> = {}) {
    super(description)
    this.name = 'OAuthError'
    this.headers = headers
  }
}

// RFC 9110 requires a challenge on every 401; RFC 6749 §5.2 names Basic for client authentication.
const BASIC = { 'www-authenticate': 'Basic realm="portcullis", charset="UTF-8"' }

export const oauthErrors = {
  invalidRequest: (description: string) => new OAuthError(400, 'invalid_request', description),
  invalidClient: (description = 'Client authentication failed.') => new OAuthError(401, 'invalid_client', description, BASIC),
  unsupportedGrantType: (grantType: string) =>
    new OAuthError(400, 'unsupported_grant_type', `The grant type "${grantType.slice(0, 100)}" is not supported; use client_credentials.`),
  invalidScope: (unknown: string[]) =>
    new OAuthError(400, 'invalid_scope', `The client may not request ${unknown.map(s => `"${s.slice(0, 100)}"`).join(', ')}.`),
  unauthorizedClient: (description: string) => new OAuthError(400, 'unauthorized_client', description)
}
