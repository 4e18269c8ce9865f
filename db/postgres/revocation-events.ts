// The revocation feed's writer on PostgreSQL, used by the session, user and client repositories
// inside their own transactions.
import { sql } from 'drizzle-orm'
import { advisoryLocks, type PgTx } from './database.js'
import { revocationEvents } from './schema.js'

/**
 * Appends one event. Call it as the LAST statement of the transaction: it takes the feed's advisory
 * lock, held until commit, so events commit in `seq` order and a poller that read up to some `seq`
 * never later sees a smaller one appear (a sequence value is drawn before commit; without the lock a
 * slow transaction could commit an older `seq` after a newer one was served). Nothing else is locked
 * after it, so it cannot take part in a deadlock cycle.
 */
export async function appendRevocationEvent (tx: PgTx, event: { sessionId: string } | { subject: string } | { jti: string }, now: Date): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${advisoryLocks.revocationFeed})`)
  await tx.insert(revocationEvents).values({
    sessionId: 'sessionId' in event ? event.sessionId : null,
    subject: 'subject' in event ? event.subject : null,
    jti: 'jti' in event ? event.jti : null,
    notBefore: now,
    createdAt: now
  })
}
