// @portcullis/verify: verify Portcullis access tokens in another service, with or without Fastify.
export { default, default as portcullisVerify, type PortcullisVerifyOptions, type PortcullisVerifier, type Authentication } from './plugin.js'
export { requireAcr, requireAuthentication, requirePermission, requireScope, type Guard } from './guards.js'
export { verifyAccessToken, jwksUrlOf, CLOCK_SKEW_SECONDS, type VerifyOptions, type Algorithm } from './verify-token.js'
export { createRevocationFeed, basicClientAuthorization, type RevocationFeed, type RevocationFeedOptions, type FeedLogger, type StalePolicy } from './revocation-feed.js'
export { RevocationList, type RevocationItem } from './revocation-list.js'
export { TokenInvalidError, VerifierUnavailableError, FeedConfigurationError } from './errors.js'
export { ACCESS_TOKEN_TYP, permissionsOf, scopesOf, type VerifiedToken } from './claims.js'
