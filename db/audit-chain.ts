// The audit log's hash chain: what an entry's hash covers, shared by both databases' writers and by
// `audit verify`. Pure (node:crypto only), so the verifier recomputes exactly what the writer stored.
import { createHash } from 'node:crypto'
import type { AuditEventRecord, NewAuditEvent } from './repositories.js'

/** The `prevHash` of the first entry ever written. */
export const GENESIS_HASH = '0'.repeat(64)

/** An entry as stored, `data` as its JSON text (the hash covers the stored text, not a re-serialisation). */
export interface ChainedContent {
  seq: number
  id: string
  at: Date
  type: string
  actorType: string
  actorId: string | null
  subjectId: string | null
  ip: string | null
  userAgent: string | null
  requestId: string | null
  data: string
}

/** SHA-256 (hex) over the previous entry's hash and every stored field of this one, as a JSON array (unambiguous). */
export function entryHash (prevHash: string, entry: ChainedContent): string {
  const content = [prevHash, entry.seq, entry.id, entry.at.getTime(), entry.type, entry.actorType, entry.actorId,
    entry.subjectId, entry.ip, entry.userAgent, entry.requestId, entry.data]
  return createHash('sha256').update(JSON.stringify(content)).digest('hex')
}

/** The body of a delivery (API.md): {id, type, timestamp, data}, the data naming the user concerned. */
export function webhookPayload (event: NewAuditEvent): string {
  const data = { ...(event.subjectId !== null && { user_id: event.subjectId }), ...event.data }
  return JSON.stringify({ id: event.id, type: event.type, timestamp: event.at.toISOString(), data })
}

/** A stored row (either database) as a record. */
export function toAuditEvent (row: Omit<AuditEventRecord, 'actorType'> & { actorType: string }): AuditEventRecord {
  return { ...row, actorType: row.actorType as AuditEventRecord['actorType'] }
}
