// Owns the database: opens SQLite or PostgreSQL by DATABASE_URL (migrations applied), exposes the
// repositories, closes what it opened.
import fp from 'fastify-plugin'
import { openStorage } from '../db/open.js'
import type { Repositories } from '../db/repositories.js'

declare module 'fastify' {
  interface FastifyInstance {
    repositories: Repositories
  }
}

export default fp(async function db (fastify) {
  const { config } = fastify
  const storage = await openStorage({
    url: config.databaseUrl,
    poolMax: config.databasePoolMax,
    connectTimeoutMs: config.databaseConnectTimeout * 1000,
    busyTimeoutMs: config.databaseBusyTimeout * 1000,
    warn: message => fastify.log.warn(message)
  })
  fastify.log.info({ database: storage.location }, `database ready, migrations applied: ${storage.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'} ${storage.location}`)
  fastify.decorate('repositories', storage.repositories)
  fastify.addHook('onClose', async () => {
    await storage.close()
  })
}, { name: 'db', dependencies: ['config'] })
