// The origins trusted to use the refresh cookie and to call the API from a browser (CORS).
import type { Config } from '../config.js'

/**
 * The service's own origin and `ALLOWED_ORIGINS`, compared exactly. Never `null`: that is the
 * opaque origin of sandboxed frames, `file:` pages and some redirects, which any site can produce.
 */
export function trustedOrigins (config: Pick<Config, 'publicUrl' | 'allowedOrigins'>): ReadonlySet<string> {
  const origins = new Set([new URL(config.publicUrl).origin, ...config.allowedOrigins])
  origins.delete('null')
  return origins
}
