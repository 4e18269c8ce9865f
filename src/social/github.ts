// GitHub (OAuth 2, no OpenID): code + PKCE at its token endpoint, then who the user is from its REST API.
import * as oidc from 'openid-client'
import type { GithubConfig } from './config.js'
import { ProviderFailure } from './errors.js'
import { allowsInsecureRequests, authorizationParameters, exchangeCode, PROVIDER_TIMEOUT_SECONDS, type ProviderIdentity, type SocialProvider } from './provider.js'

interface GithubUser {
  id: number | string
  login: string
}

interface GithubEmail {
  email: string
  primary: boolean
  verified: boolean
}

/**
 * GitHub's token endpoint answers a bad code with HTTP 200 and `{"error": …}`; RFC 6749 §5.2 says 400.
 * Restating it as a 400 lets openid-client report it as the OAuth error it is.
 */
const standardTokenErrors: oidc.CustomFetch = async (url, options) => {
  const response = await fetch(url, options as RequestInit)
  if (response.status !== 200 || !(response.headers.get('content-type') ?? '').includes('json')) return response
  const body = await response.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    parsed = undefined
  }
  const isError = typeof parsed === 'object' && parsed !== null && typeof (parsed as { error?: unknown }).error === 'string'
  return new Response(body, { status: isError ? 400 : 200, headers: response.headers })
}

/** The primary address if GitHub verified it, else another verified one, else the unverified primary. */
function chooseEmail (emails: GithubEmail[]): { email: string | null, emailVerified: boolean } {
  const chosen = emails.find(e => e.primary && e.verified) ?? emails.find(e => e.verified) ?? emails.find(e => e.primary)
  return { email: chosen?.email ?? null, emailVerified: chosen?.verified === true }
}

export function githubProvider (config: GithubConfig): SocialProvider {
  const configuration = new oidc.Configuration({
    // GitHub publishes no metadata: the endpoints are configured, the issuer is only a label here.
    issuer: new URL(config.authorizeUrl).origin,
    authorization_endpoint: config.authorizeUrl,
    token_endpoint: config.tokenUrl
  }, config.clientId, config.clientSecret)
  configuration.timeout = PROVIDER_TIMEOUT_SECONDS
  configuration[oidc.customFetch] = standardTokenErrors
  if (allowsInsecureRequests(config.tokenUrl)) oidc.allowInsecureRequests(configuration)

  async function api<T> (path: string, accessToken: string): Promise<T> {
    const response = await fetch(`${config.apiUrl}${path}`, {
      headers: {
        authorization: `Bearer ${accessToken}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        // GitHub refuses requests without one.
        'user-agent': 'portcullis'
      },
      signal: AbortSignal.timeout(PROVIDER_TIMEOUT_SECONDS * 1000)
    })
    if (response.status >= 500) throw new ProviderFailure('unavailable', `GitHub answered ${path} with HTTP ${response.status}`)
    if (!response.ok) throw new ProviderFailure('invalid_response', `GitHub answered ${path} with HTTP ${response.status}`)
    return await response.json() as T
  }

  return {
    name: 'github',
    usesNonce: false,
    async authorizationUrl (request) {
      return oidc.buildAuthorizationUrl(configuration, authorizationParameters(request, 'read:user user:email'))
    },
    async identify (exchange): Promise<ProviderIdentity> {
      const tokens = await exchangeCode(configuration, exchange, false)
      const user = await api<GithubUser>('/user', tokens.access_token)
      const emails = await api<GithubEmail[]>('/user/emails', tokens.access_token)
      if ((typeof user.id !== 'number' && typeof user.id !== 'string') || typeof user.login !== 'string' || !Array.isArray(emails)) {
        throw new ProviderFailure('invalid_response', 'GitHub\'s /user or /user/emails answer has an unexpected shape')
      }
      const wellFormed = emails.filter((e: Partial<GithubEmail> | null) => typeof e?.email === 'string')
      return { providerUserId: String(user.id), preferredUsername: user.login, ...chooseEmail(wellFormed) }
    }
  }
}
