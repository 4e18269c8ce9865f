// Social login configuration: which providers are enabled, where they live, where users may be sent back to.
import { Type, type Static } from '@sinclair/typebox'

export const GoogleConfig = Type.Object({
  clientId: Type.String({ minLength: 1 }),
  clientSecret: Type.String({ minLength: 1 }),
  /** The OpenID issuer; its `/.well-known/openid-configuration` is discovered. */
  issuer: Type.String({ minLength: 1 })
}, { additionalProperties: false })

export const GithubConfig = Type.Object({
  clientId: Type.String({ minLength: 1 }),
  clientSecret: Type.String({ minLength: 1 }),
  authorizeUrl: Type.String({ minLength: 1 }),
  tokenUrl: Type.String({ minLength: 1 }),
  apiUrl: Type.String({ minLength: 1 })
}, { additionalProperties: false })

export const SocialConfig = Type.Object({
  google: Type.Optional(GoogleConfig),
  github: Type.Optional(GithubConfig),
  /** URL prefixes a login may return to (`redirect_to`, or a client's `redirect_uri`). */
  redirectAllowlist: Type.Array(Type.String())
}, { additionalProperties: false })
export type SocialConfig = Static<typeof SocialConfig>
export type GoogleConfig = Static<typeof GoogleConfig>
export type GithubConfig = Static<typeof GithubConfig>

/** The reader helpers of src/config.ts, passed in so that errors keep one shape. */
export interface ConfigReaders {
  read (name: string): string | undefined
  url (name: string, fallback: string): string
  fail (name: string, message: string): never
}

/** A provider is enabled by its client id and secret together; one without the other is a mistake. */
function credentials (readers: ConfigReaders, prefix: string): { clientId: string, clientSecret: string } | undefined {
  const clientId = readers.read(`${prefix}_CLIENT_ID`)
  const clientSecret = readers.read(`${prefix}_CLIENT_SECRET`)
  if (clientId === undefined && clientSecret === undefined) return undefined
  if (clientId === undefined) readers.fail(`${prefix}_CLIENT_ID`, `must be set together with ${prefix}_CLIENT_SECRET`)
  if (clientSecret === undefined) readers.fail(`${prefix}_CLIENT_SECRET`, `must be set together with ${prefix}_CLIENT_ID`)
  return { clientId, clientSecret }
}

/**
 * SOCIAL_REDIRECT_ALLOWLIST: comma-separated absolute URLs. Each is a prefix at a path boundary:
 * `https://app.example.com/auth` allows `/auth` and `/auth/done`, never `/authx` or another host.
 */
function allowlist (readers: ConfigReaders): string[] {
  const raw = readers.read('SOCIAL_REDIRECT_ALLOWLIST')
  if (raw === undefined) return []
  return raw.split(',').map(entry => entry.trim()).filter(Boolean).map(entry => {
    let parsed: URL
    try {
      parsed = new URL(entry)
    } catch {
      return readers.fail('SOCIAL_REDIRECT_ALLOWLIST', `must be a comma-separated list of absolute URLs, got "${entry}"`)
    }
    if (parsed.username !== '' || parsed.password !== '' || parsed.hash !== '' || parsed.search !== '') {
      readers.fail('SOCIAL_REDIRECT_ALLOWLIST', `entries cannot carry credentials, a query or a fragment, got "${entry}"`)
    }
    return parsed.href
  })
}

export function readSocialConfig (readers: ConfigReaders): SocialConfig {
  const google = credentials(readers, 'GOOGLE')
  const github = credentials(readers, 'GITHUB')
  return {
    ...(google !== undefined && { google: { ...google, issuer: readers.url('GOOGLE_ISSUER', 'https://accounts.google.com') } }),
    ...(github !== undefined && {
      github: {
        ...github,
        authorizeUrl: readers.url('GITHUB_AUTHORIZE_URL', 'https://github.com/login/oauth/authorize'),
        tokenUrl: readers.url('GITHUB_TOKEN_URL', 'https://github.com/login/oauth/access_token'),
        apiUrl: readers.url('GITHUB_API_URL', 'https://api.github.com')
      }
    }),
    redirectAllowlist: allowlist(readers)
  }
}
