// Cluster-wide background job claims on PostgreSQL.
import { sql } from 'drizzle-orm'
import type { BackgroundJobRepository } from '../repositories.js'
import type { PgDb } from './database.js'
import { backgroundJobs } from './schema.js'

export function postgresBackgroundJobRepository (db: PgDb): BackgroundJobRepository {
  return {
    async claim (name, intervalMs, now, instance) {
      // One statement decides: concurrent claimers of a new job wait on the first one's insert and
      // then take the update path; the update locks the row and re-checks the condition on its latest
      // version, so once one claimer has moved last_run_at to now, the others' WHERE fails and
      // nothing is returned. Exactly one true per interval, with no advisory lock needed.
      const claimed = await db.insert(backgroundJobs)
        .values({ name, lastRunAt: now, ranBy: instance })
        .onConflictDoUpdate({
          target: backgroundJobs.name,
          set: { lastRunAt: now, ranBy: instance },
          setWhere: sql`${backgroundJobs.lastRunAt} <= ${new Date(now.getTime() - intervalMs)}`
        })
        .returning({ name: backgroundJobs.name })
      return claimed.length > 0
    }
  }
}
