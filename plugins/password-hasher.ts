// Owns the worker-thread pool that hashes passwords.
import fp from 'fastify-plugin'
import type { Piscina } from 'piscina'
import { createPasswordHasher, type PasswordHasher } from '../src/passwords/hasher.js'

declare module 'fastify' {
  interface FastifyInstance {
    passwordHasher: PasswordHasher
  }
}

export interface PasswordHasherOptions {
  /** Worker threads shared with other apps (buildApp's hashWorkers): left running when this app closes. */
  workers?: Piscina
}

export default fp<PasswordHasherOptions>(async function passwordHasher (fastify, options) {
  const hasher = createPasswordHasher({ cost: fastify.config.bcryptCost, threads: fastify.config.hashWorkers, workers: options.workers })
  fastify.decorate('passwordHasher', hasher)
  fastify.addHook('onClose', async () => {
    await hasher.close()
  })
}, { name: 'password-hasher', dependencies: ['config'] })
