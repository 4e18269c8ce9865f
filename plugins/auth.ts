// Composes what the domain functions need (repositories, hasher, signer, clock) into one object.
import fp from 'fastify-plugin'
import type { AuthDeps } from '../src/deps.js'
import { configuredPasswordPolicy } from '../src/passwords/configured.js'

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthDeps
  }
}

export interface AuthPluginOptions {
  /** Tests inject a clock to move through expiry windows. */
  now?: () => Date
}

export default fp(async function auth (fastify, options: AuthPluginOptions) {
  fastify.decorate('auth', {
    config: fastify.config,
    repositories: fastify.repositories,
    hasher: fastify.passwordHasher,
    mailer: fastify.mailer,
    loginThrottle: fastify.loginThrottle,
    mfaThrottle: fastify.mfaThrottle,
    passwordPolicy: configuredPasswordPolicy(fastify.config, (err, message) => fastify.log.warn({ err }, message)),
    signAccessToken: fastify.signAccessToken,
    now: options.now ?? (() => new Date())
  })
}, { name: 'auth', dependencies: ['config', 'db', 'password-hasher', 'keys', 'mailer', 'rate-limit'] })
