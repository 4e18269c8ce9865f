// The enabled social login providers (Google, GitHub), built from the configuration, as `fastify.social`.
import fp from 'fastify-plugin'
import type { SocialProvider } from '../src/social/provider.js'
import type { SocialDeps } from '../src/social/login.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The domain's dependencies plus the enabled providers, by name. */
    social: SocialDeps
  }
}

export default fp(async function social (fastify) {
  const { google, github } = fastify.config.social
  const providers = new Map<string, SocialProvider>()
  // Imported only when enabled: they load openid-client, which a server without social login never needs.
  if (google !== undefined) providers.set('google', (await import('../src/social/google.js')).googleProvider(google))
  if (github !== undefined) providers.set('github', (await import('../src/social/github.js')).githubProvider(github))
  fastify.decorate('social', { ...fastify.auth, providers })
}, { name: 'social', dependencies: ['config', 'auth'] })
