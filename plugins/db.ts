// Owns the database connection: opens it (migrations applied), exposes the repositories, closes it.
import fp from 'fastify-plugin'
import { openDatabase, sqliteRepositories } from '../db/sqlite/index.js'
import type { Repositories } from '../db/repositories.js'

declare module 'fastify' {
  interface FastifyInstance {
    repositories: Repositories
  }
}

export default fp(async function db (fastify) {
  const database = openDatabase(fastify.config.databaseUrl)
  fastify.decorate('repositories', sqliteRepositories(database))
  fastify.addHook('onClose', async () => {
    database.$client.close()
  })
}, { name: 'db', dependencies: ['config'] })
