// Where an OAuth request's client credentials are: HTTP Basic (RFC 6749 §2.3.1) or the body.
import { oauthErrors } from './errors.js'

export interface ClientCredentials {
  clientId: string
  secret: string
  /** How they came, so a failure can answer in kind. */
  method: 'basic' | 'body'
}

/** application/x-www-form-urlencoded decoding of one Basic credential part, as §2.3.1 requires. */
function formDecode (part: string): string | undefined {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '))
  } catch {
    return undefined
  }
}

/** The client id and secret of an `Authorization: Basic` header; undefined when there is no such header. */
export function basicCredentials (header: string | undefined): ClientCredentials | undefined {
  if (header === undefined || !/^Basic(\s|$)/i.test(header)) return undefined
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header)
  if (match === null) throw oauthErrors.invalidClient('The Authorization header must be "Basic <base64(client_id:client_secret)>".')
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const clientId = colon === -1 ? undefined : formDecode(decoded.slice(0, colon))
  const secret = colon === -1 ? undefined : formDecode(decoded.slice(colon + 1))
  if (clientId === undefined || secret === undefined || clientId === '' || secret === '') {
    throw oauthErrors.invalidClient('The Basic credentials must be the form-encoded client_id and client_secret, joined by ":".')
  }
  return { clientId, secret, method: 'basic' }
}

/**
 * The credentials of a request: Basic or `client_id`/`client_secret` in the body, never both (RFC 6749
 * §2.3: one method per request). None at all is `invalid_client`.
 */
export function clientCredentials (authorization: string | undefined, body: { client_id?: string, client_secret?: string }): ClientCredentials {
  const basic = basicCredentials(authorization)
  const inBody = body.client_id !== undefined || body.client_secret !== undefined
  if (basic !== undefined && inBody) {
    throw oauthErrors.invalidRequest('Send the client credentials either with HTTP Basic or in the body, not both.')
  }
  if (basic !== undefined) return basic
  if (body.client_id === undefined || body.client_secret === undefined) {
    throw oauthErrors.invalidClient(inBody ? 'Both client_id and client_secret are required.' : 'Client authentication is required (HTTP Basic or client_id and client_secret in the body).')
  }
  return { clientId: body.client_id, secret: body.client_secret, method: 'body' }
}
