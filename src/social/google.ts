// Google, or any OpenID Connect provider: discovery, code + PKCE, and an ID token checked against its JWKS.
import * as oidc from 'openid-client'
import type { GoogleConfig } from './config.js'
import { allowsInsecureRequests, authorizationParameters, exchangeCode, PROVIDER_TIMEOUT_SECONDS, type SocialProvider } from './provider.js'

/** `email_verified` is a boolean, but some providers send the string "true". */
function isTrue (value: unknown): boolean {
  return value === true || value === 'true'
}

function localPart (email: string | null): string | null {
  return email === null ? null : email.split('@')[0]
}

export function googleProvider (config: GoogleConfig): SocialProvider {
  let discovered: Promise<oidc.Configuration> | undefined

  // Discovered on first use and kept; a failed discovery is retried by the next login.
  function configuration (): Promise<oidc.Configuration> {
    discovered ??= oidc.discovery(new URL(config.issuer), config.clientId, config.clientSecret, undefined, {
      execute: [
        ...(allowsInsecureRequests(config.issuer) ? [oidc.allowInsecureRequests] : []),
        // Verify the ID token's signature with the provider's JWKS too, not only trust the TLS channel.
        oidc.enableNonRepudiationChecks
      ],
      timeout: PROVIDER_TIMEOUT_SECONDS
    }).catch(err => {
      discovered = undefined
      throw err
    })
    return discovered
  }

  return {
    name: 'google',
    usesNonce: true,
    async authorizationUrl (request) {
      return oidc.buildAuthorizationUrl(await configuration(), authorizationParameters(request, 'openid email profile'))
    },
    async identify (exchange) {
      const tokens = await exchangeCode(await configuration(), exchange, true)
      // Present and validated: idTokenExpected makes openid-client refuse an answer without one.
      const claims = tokens.claims()!
      const email = typeof claims.email === 'string' ? claims.email : null
      return {
        providerUserId: claims.sub,
        email,
        emailVerified: email !== null && isTrue(claims.email_verified),
        preferredUsername: typeof claims.preferred_username === 'string' ? claims.preferred_username : localPart(email)
      }
    }
  }
}
