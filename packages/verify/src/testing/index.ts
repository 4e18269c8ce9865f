// @portcullis/verify/testing: test a downstream service without running Portcullis.
export { startIssuer, type LocalIssuer, type LocalIssuerOptions, type MintOptions, type Claims } from './local-issuer.js'
