// The enabled social login providers (Google, GitHub), built from the configuration, as `fastify.social`.
import fp from 'fastify-plugin'
import { githubProvider } from '../src/social/github.js'
import { googleProvider } from '../src/social/google.js'
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
  if (google !== undefined) providers.set('google', googleProvider(google))
  if (github !== undefined) providers.set('github', githubProvider(github))
  fastify.decorate('social', { ...fastify.auth, providers })
}, { name: 'social', dependencies: ['config', 'auth'] })
