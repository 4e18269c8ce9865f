// Schemas the OAuth endpoints share: client credentials in the body, the token parameter, RFC 6749
// §5.2 error responses, and the media types they accept.
import { STATUS_CODES } from 'node:http'
import { Type } from '@sinclair/typebox'
import { ACCESS_TOKEN_EXAMPLE } from './shared.js'

/** Form-encoded (as RFC 6749 defines) or JSON bodies. */
export const OAUTH_CONSUMES = ['application/x-www-form-urlencoded', 'application/json']

export const ClientAuthFields = {
  client_id: Type.Optional(Type.String({ maxLength: 200, description: 'The client id, when the client authenticates in the body instead of with HTTP Basic (never both).', examples: ['0f8e2b1c-3c57-4b4e-9a61-5b1f0c2d7e90'] })),
  client_secret: Type.Optional(Type.String({ maxLength: 200, description: 'The client secret, with `client_id`.', examples: ['mF3x0bq9r2Zy4V8kQe1LwTn5sJ7uHc6pAo_dGi-XRtY'] }))
}

export const TokenParameters = {
  token: Type.String({ minLength: 1, maxLength: 8192, description: 'The token: a user access token, a client access token or a refresh token.', examples: [ACCESS_TOKEN_EXAMPLE] }),
  token_type_hint: Type.Optional(Type.String({ maxLength: 64, description: '`access_token` or `refresh_token`; optional, and only a hint: every kind of token is looked up whatever it says.', examples: ['access_token'] }))
}

/**
 * RFC 6749 §3.2: unknown parameters are ignored (not refused, unlike the rest of the API), and a
 * parameter sent blank counts as not sent.
 */
export const OAUTH_BODY_NOTE = 'Unknown parameters are ignored and blank ones count as absent (RFC 6749 §3.2).'

export const OAuthErrorBody = Type.Object({
  error: Type.String({ description: 'The RFC 6749 §5.2 error code, e.g. `invalid_request`, `invalid_client`, `invalid_scope`.', examples: ['invalid_client'] }),
  error_description: Type.String({ description: 'What happened, for people.', examples: ['Client authentication failed.'] })
}, { description: 'An OAuth 2.0 error (RFC 6749 §5.2).' })

const oauthErrorContent = { 'application/json': { schema: OAuthErrorBody } }

/** `{ 400: {...}, 401: {...} }`: RFC 6749 §5.2 error responses, documented for OpenAPI. */
export function oauthErrors (...codes: Array<[number, string]>) {
  const responses: Record<number, { description: string, content: typeof oauthErrorContent }> = {}
  for (const [status, description] of codes) {
    responses[status] = { description: `${STATUS_CODES[status]}: ${description}`, content: oauthErrorContent }
  }
  return responses
}

export const OAUTH_INVALID_REQUEST: [number, string] = [400, '`invalid_request`: a required parameter is missing or malformed, a body that cannot be parsed, or credentials both in Basic and in the body.']
export const OAUTH_INVALID_CLIENT: [number, string] = [401, '`invalid_client`: no client credentials, an unknown client or a wrong secret. Carries `WWW-Authenticate: Basic`.']
export const OAUTH_TOO_LARGE: [number, string] = [413, '`invalid_request`: the body is over 64 KiB.']
export const OAUTH_UNSUPPORTED: [number, string] = [415, '`invalid_request`: the body is neither form-encoded nor JSON.']
export const OAUTH_RATE_LIMITED: [number, string] = [429, '`rate_limited`: too many requests from this address; retry after `Retry-After` seconds.']
