// Cluster-wide background job claims on SQLite: one statement, so a claim is atomic even between
// processes sharing the file.
import type { BackgroundJobRepository } from '../repositories.js'
import type { SqliteDb } from './connection.js'

export function sqliteBackgroundJobRepository (db: SqliteDb): BackgroundJobRepository {
  // The upsert's WHERE refuses the update while the last run is younger than the interval: no row
  // changes, and the claim is false.
  const claim = db.$client.prepare<[string, number, string, number]>(`
    INSERT INTO background_jobs (name, last_run_at, ran_by) VALUES (?, ?, ?)
    ON CONFLICT (name) DO UPDATE SET last_run_at = excluded.last_run_at, ran_by = excluded.ran_by
     WHERE background_jobs.last_run_at <= ?`)

  return {
    async claim (name, intervalMs, now, instance) {
      return claim.run(name, now.getTime(), instance, now.getTime() - intervalMs).changes > 0
    }
  }
}
