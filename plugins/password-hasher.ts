// Owns the worker-thread pool that hashes passwords.
import fp from 'fastify-plugin'
import { createPasswordHasher, type PasswordHasher } from '../src/passwords/hasher.js'

declare module 'fastify' {
  interface FastifyInstance {
    passwordHasher: PasswordHasher
  }
}

export default fp(async function passwordHasher (fastify) {
  const hasher = createPasswordHasher({ cost: fastify.config.bcryptCost, threads: fastify.config.hashWorkers })
  fastify.decorate('passwordHasher', hasher)
  fastify.addHook('onClose', async () => {
    await hasher.close()
  })
}, { name: 'password-hasher', dependencies: ['config'] })
