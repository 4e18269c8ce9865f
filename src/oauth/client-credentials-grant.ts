// The client credentials grant (RFC 6749 §4.4): an access token for the authenticated client, with
// the scopes it asked for (all of its own when it asked for none).
import type { ServiceClientRecord } from '../../db/repositories.js'
import type { AuthDeps } from '../deps.js'
import { clientTokenClaims, signClientToken } from './client-tokens.js'
import { oauthErrors } from './errors.js'
import { parseScope } from './scopes.js'

export interface ClientTokenResponse {
  access_token: string
  token_type: 'Bearer'
  /** Seconds until the token expires. */
  expires_in: number
  /** The granted scopes, space-separated. */
  scope: string
}

/** The scopes to grant: what was asked for, which must be a subset of the client's. */
export function grantedScopes (client: ServiceClientRecord, requested: string | undefined): string[] {
  if (requested === undefined) return client.scopes
  const tokens = parseScope(requested)
  if (tokens === undefined) throw oauthErrors.invalidScope([requested])
  const unknown = tokens.filter(scope => !client.scopes.includes(scope))
  if (unknown.length > 0) throw oauthErrors.invalidScope(unknown)
  return tokens.sort()
}

export async function issueClientToken (deps: AuthDeps, client: ServiceClientRecord, grantType: string, scope: string | undefined): Promise<ClientTokenResponse> {
  if (grantType !== 'client_credentials') throw oauthErrors.unsupportedGrantType(grantType)
  const scopes = grantedScopes(client, scope)
  const accessToken = await signClientToken(deps.signAccessToken, clientTokenClaims(client.id, scopes))
  return { access_token: accessToken, token_type: 'Bearer', expires_in: deps.config.accessTokenTtl, scope: scopes.join(' ') }
}
