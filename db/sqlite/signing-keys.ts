// The signing-keys repository on SQLite.
import { asc } from 'drizzle-orm'
import type { SigningKeyRepository } from '../repositories.js'
import { signingKeys } from '../schema.js'
import type { SqliteDb } from './connection.js'

export function sqliteSigningKeyRepository (db: SqliteDb): SigningKeyRepository {
  return {
    async list () {
      return db.select().from(signingKeys).orderBy(asc(signingKeys.createdAt)).all()
    },
    async insert (key) {
      db.insert(signingKeys).values(key).run()
    }
  }
}
