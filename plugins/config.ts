// Makes the validated configuration available to every plugin and route.
import fp from 'fastify-plugin'
import type { Config } from '../src/config.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

export default fp(async function config (fastify, options: { config: Config }) {
  fastify.decorate('config', options.config)
}, { name: 'config' })
