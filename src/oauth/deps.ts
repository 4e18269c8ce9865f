// What the OAuth endpoints' domain functions need beyond AuthDeps: the two token verifiers and the
// live-session check that authenticating a request uses, passed in so a test can call them without HTTP.
import type { AccessTokenClaims } from '../sessions/access-tokens.js'
import type { AuthDeps } from '../deps.js'
import type { VerifiedClientToken } from './client-tokens.js'
import type { UserSummary } from '../../db/repositories.js'

export interface VerifiedUserToken extends AccessTokenClaims {
  iss: string
  aud: string
  iat: number
  exp: number
}

export interface OAuthDeps extends AuthDeps {
  /** Signature and claims of a user access token; throws when not valid. */
  verifyUserToken (token: string): Promise<VerifiedUserToken>
  /** The live session and able user behind verified claims; throws when the session or account is not. */
  loadPrincipal (claims: VerifiedUserToken): Promise<{ user: UserSummary, sessionId: string }>
  /** Signature and claims of a client access token; throws when not valid. */
  verifyClientToken (token: string): Promise<VerifiedClientToken>
}
