// Reading the audit log: the entry as the admin API and `audit export` show it, and its pages.
import type { AuditEventRecord } from '../../db/repositories.js'
import type { AuthDeps } from '../deps.js'
import { errors } from '../errors.js'
import { decodePageCursor, encodePageCursor } from '../http/page-cursor.js'

export interface AuditEntryView {
  id: string
  at: string
  type: string
  actor_type: string
  actor_id: string | null
  subject_id: string | null
  ip: string | null
  user_agent: string | null
  request_id: string | null
  data: Record<string, unknown>
}

export function auditEntryView (entry: AuditEventRecord): AuditEntryView {
  return {
    id: entry.id,
    at: entry.at.toISOString(),
    type: entry.type,
    actor_type: entry.actorType,
    actor_id: entry.actorId,
    subject_id: entry.subjectId,
    ip: entry.ip,
    user_agent: entry.userAgent,
    request_id: entry.requestId,
    data: JSON.parse(entry.data) as Record<string, unknown>
  }
}

/** What `audit export` writes: the view plus the chain fields, so that a copy can be checked offline. */
export function auditExportLine (entry: AuditEventRecord): AuditEntryView & { seq: number, prev_hash: string, hash: string } {
  return { seq: entry.seq, ...auditEntryView(entry), prev_hash: entry.prevHash, hash: entry.hash }
}

function encodeCursor (seq: number): string {
  return encodePageCursor('audit', seq)
}

function decodeCursor (cursor: string): number {
  return decodePageCursor('audit', cursor, false).position
}

export interface AuditQuery {
  type?: string
  user?: string
  since?: Date
  until?: Date
  limit: number
  cursor?: string
}

/** A page of the log, oldest first; `next_cursor` continues after its last entry (null at the end). */
export async function listAudit (deps: Pick<AuthDeps, 'repositories'>, query: AuditQuery): Promise<{ items: AuditEntryView[], next_cursor: string | null }> {
  for (const [field, date] of [['since', query.since], ['until', query.until]] as const) {
    if (date !== undefined && Number.isNaN(date.getTime())) throw errors.validation([{ field, message: 'must be a date-time that exists' }])
  }
  const afterSeq = query.cursor === undefined ? undefined : decodeCursor(query.cursor)
  // One extra row tells whether there is a next page.
  const rows = await deps.repositories.audit.list({
    ...(query.type !== undefined && { type: query.type }),
    ...(query.user !== undefined && { subjectId: query.user }),
    ...(query.since !== undefined && { since: query.since }),
    ...(query.until !== undefined && { until: query.until }),
    ...(afterSeq !== undefined && { afterSeq }),
    limit: query.limit + 1
  })
  const page = rows.slice(0, query.limit)
  return { items: page.map(auditEntryView), next_cursor: rows.length > query.limit ? encodeCursor(page[page.length - 1].seq) : null }
}
