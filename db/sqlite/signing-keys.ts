// The signing-keys repository on SQLite.
import type { KeyRotationRequest, SigningKeyRecord, SigningKeyRepository } from '../repositories.js'
import type { SqliteDb } from './connection.js'
import { auditRecorder } from './audit.js'

type Row = [kid: string, algorithm: string, privateKey: string, publicJwk: string, createdAt: number, retiredAt: number | null]

const toRecord = ([kid, algorithm, privateKey, publicJwk, createdAt, retiredAt]: Row): SigningKeyRecord => ({
  kid, algorithm, privateKey, publicJwk, createdAt: new Date(createdAt), retiredAt: retiredAt === null ? null : new Date(retiredAt)
})

export function sqliteSigningKeyRepository (db: SqliteDb): SigningKeyRepository {
  const client = db.$client
  const list = client.prepare<[], Row>(`SELECT kid, algorithm, private_key, public_jwk, created_at, retired_at
                                          FROM signing_keys ORDER BY created_at, kid`).raw()
  // The live keys the request retires: of `only` (when given), not of `except` (when given).
  const retiring = '(retired_at IS NULL OR retired_at > @now) AND (@only IS NULL OR algorithm = @only) AND (@except IS NULL OR algorithm <> @except)'
  const liveKids = client.prepare<[{ now: number, only: string | null, except: string | null }], [string]>(`SELECT kid FROM signing_keys WHERE ${retiring}`).raw()
  const newerLive = client.prepare<[string, number, number], [number]>(`SELECT 1 FROM signing_keys
                                          WHERE algorithm = ? AND created_at > ? AND (retired_at IS NULL OR retired_at > ?) LIMIT 1`).raw()
  // min(): a key already due to retire earlier keeps its date.
  const retire = client.prepare<[{ retireAt: number, now: number, only: string | null, except: string | null }]>(`UPDATE signing_keys SET retired_at = min(coalesce(retired_at, @retireAt), @retireAt)
                                  WHERE ${retiring}`)
  const insert = client.prepare(`INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at, retired_at)
                                  VALUES (?, ?, ?, ?, ?, NULL)`)
  const deleteRetired = client.prepare('DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at <= ?')
  const replacePrivateKey = client.prepare('UPDATE signing_keys SET private_key = ? WHERE kid = ? AND private_key = ?')
  const readSettings = client.prepare<[], [string]>('SELECT settings FROM key_settings WHERE id = 1').raw()
  const saveSettings = client.prepare(`INSERT INTO key_settings (id, settings, updated_at) VALUES (1, ?, ?)
                                       ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`)

  // Synchronous, as better-sqlite3 transactions must be: the check and the writes see one state.
  const audit = auditRecorder(db)
  const rotateAtomically = client.transaction((request: KeyRotationRequest) => {
    const now = request.now.getTime()
    if (request.unless !== undefined && newerLive.get(request.unless.algorithm, request.unless.liveSince.getTime(), now) !== undefined) {
      return { rotated: false, retired: [] }
    }
    const scope = { now, only: request.onlyAlgorithm ?? null, except: request.exceptAlgorithm ?? null }
    const retired = liveKids.all(scope).map(([kid]) => kid)
    retire.run({ ...scope, retireAt: request.retireAt.getTime() })
    const key = request.key
    if (key !== undefined) {
      insert.run(key.kid, key.algorithm, key.privateKey, key.publicJwk, key.createdAt.getTime())
      audit.append(request.events ?? [])
    }
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
    },
    async replacePrivateKey (kid, expected, privateKey) {
      return replacePrivateKey.run(privateKey, kid, expected).changes === 1
    },
    async settings () {
      return readSettings.get()?.[0]
    },
    async saveSettings (settings, at) {
      saveSettings.run(settings, at.getTime())
    }
  }
}
