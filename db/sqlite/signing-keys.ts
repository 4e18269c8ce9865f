// The signing-keys repository on SQLite.
import type { KeyRotationRequest, SigningKeyRecord, SigningKeyRepository } from '../repositories.js'
import type { SqliteDb } from './connection.js'

type Row = [kid: string, algorithm: string, privateKey: string, publicJwk: string, createdAt: number, retiredAt: number | null]

const toRecord = ([kid, algorithm, privateKey, publicJwk, createdAt, retiredAt]: Row): SigningKeyRecord => ({
  kid, algorithm, privateKey, publicJwk, createdAt: new Date(createdAt), retiredAt: retiredAt === null ? null : new Date(retiredAt)
})

export function sqliteSigningKeyRepository (db: SqliteDb): SigningKeyRepository {
  const client = db.$client
  const list = client.prepare<[], Row>(`SELECT kid, algorithm, private_key, public_jwk, created_at, retired_at
                                          FROM signing_keys ORDER BY created_at, kid`).raw()
  const liveKids = client.prepare<[number], [string]>('SELECT kid FROM signing_keys WHERE retired_at IS NULL OR retired_at > ?').raw()
  const newerLive = client.prepare<[string, number, number], [number]>(`SELECT 1 FROM signing_keys
                                          WHERE algorithm = ? AND created_at > ? AND (retired_at IS NULL OR retired_at > ?) LIMIT 1`).raw()
  // min(): a key already due to retire earlier keeps its date.
  const retire = client.prepare<[{ retireAt: number, now: number }]>(`UPDATE signing_keys SET retired_at = min(coalesce(retired_at, @retireAt), @retireAt)
                                  WHERE retired_at IS NULL OR retired_at > @now`)
  const insert = client.prepare(`INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at, retired_at)
                                  VALUES (?, ?, ?, ?, ?, NULL)`)
  const deleteRetired = client.prepare('DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at <= ?')

  // Synchronous, as better-sqlite3 transactions must be: the check and the writes see one state.
  const rotateAtomically = client.transaction((request: KeyRotationRequest) => {
    const now = request.now.getTime()
    if (request.unless !== undefined && newerLive.get(request.unless.algorithm, request.unless.liveSince.getTime(), now) !== undefined) {
      return { rotated: false, retired: [] }
    }
    const retired = liveKids.all(now).map(([kid]) => kid)
    retire.run({ retireAt: request.retireAt.getTime(), now })
    const key = request.key
    if (key !== undefined) insert.run(key.kid, key.algorithm, key.privateKey, key.publicJwk, key.createdAt.getTime())
    return { rotated: true, retired }
  })

  return {
    async list () {
      return list.all().map(toRecord)
    },
    async rotate (request) {
      // IMMEDIATE takes the write lock before the check: another process cannot rotate in between.
      return rotateAtomically.immediate(request)
    },
    async deleteRetiredBefore (before) {
      return deleteRetired.run(before.getTime()).changes
    }
  }
}
