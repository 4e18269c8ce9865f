// What Portcullis needs from a login provider: where to send the user, and who came back.
import * as oidc from 'openid-client'

/** Who the provider says the user is. */
export interface ProviderIdentity {
  /** The provider's stable user id (`sub`, GitHub's numeric id): the only key an identity is matched by. */
  providerUserId: string
  email: string | null
  /** Whether the provider vouches that the user controls `email`. */
  emailVerified: boolean
  /** A login name to derive a username from (GitHub's login), if the provider has one. */
  preferredUsername: string | null
}

export interface AuthorizationRequest {
  redirectUri: string
  state: string
  codeChallenge: string
  nonce: string | null
}

export interface CodeExchange {
  /** The redirect URI with the provider's answer (`code`, and `state`/`iss` when it sent them) in its query. */
  callbackUrl: URL
  codeVerifier: string
  expectedState?: string
  /** For OpenID providers: the nonce the ID token must carry; undefined when none was sent. */
  expectedNonce?: string
}

export interface SocialProvider {
  readonly name: string
  /** OpenID providers bind the ID token to the login with a nonce. */
  readonly usesNonce: boolean
  authorizationUrl (request: AuthorizationRequest): Promise<URL>
  identify (exchange: CodeExchange): Promise<ProviderIdentity>
}

/** Seconds before a provider request is abandoned (and the login answers 502). */
export const PROVIDER_TIMEOUT_SECONDS = 10

/**
 * openid-client refuses plain http, rightly. A provider on the loopback interface (a test server, a
 * local mock) is allowed, since nothing crosses a network.
 */
export function allowsInsecureRequests (url: string): boolean {
  const { protocol, hostname } = new URL(url)
  return protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(hostname)
}

export function authorizationParameters (request: AuthorizationRequest, scope: string): Record<string, string> {
  return {
    redirect_uri: request.redirectUri,
    scope,
    state: request.state,
    code_challenge: request.codeChallenge,
    code_challenge_method: 'S256',
    ...(request.nonce !== null && { nonce: request.nonce })
  }
}

/** The code grant with PKCE, and the state and nonce checks openid-client does for us. */
export async function exchangeCode (configuration: oidc.Configuration, exchange: CodeExchange, idTokenExpected: boolean) {
  return oidc.authorizationCodeGrant(configuration, exchange.callbackUrl, {
    pkceCodeVerifier: exchange.codeVerifier,
    expectedState: exchange.expectedState,
    ...(idTokenExpected && { expectedNonce: exchange.expectedNonce, idTokenExpected: true })
  })
}
