// audit/: the audit log (events, hash chain, checkpoints, verification, export, retention) and the
// context every event is recorded with.
// The event catalogue and the builder domain functions use to describe a change for its repository.
import { AsyncLocalStorage } from 'node:async_hooks'
import { randomUUID } from 'node:crypto'
import type { AuditActorType, NewAuditEvent } from '../../db/repositories.js'

/** Every event type (API.md, "Audit log and webhooks"). */
export const AUDIT_EVENT_TYPES = [
  'user.created', 'user.updated', 'user.deleted', 'user.banned', 'user.unbanned', 'user.login', 'user.login_failed',
  'session.revoked', 'refresh.reuse_detected', 'password.changed', 'password.reset', 'email.verified',
  'mfa.enabled', 'mfa.disabled', 'key.rotated', 'client.created', 'client.deleted', 'permissions.changed'
] as const

export type AuditEventType = typeof AUDIT_EVENT_TYPES[number]

/** Who acts and from where: set per request (plugins/audit-context.ts), per CLI command, or the system by default. */
export interface AuditContext {
  actorType: AuditActorType
  actorId: string | null
  ip: string | null
  userAgent: string | null
  requestId: string | null
}

const SYSTEM: AuditContext = { actorType: 'system', actorId: null, ip: null, userAgent: null, requestId: null }

const storage = new AsyncLocalStorage<AuditContext>()

/** Runs `work` with `context` as the source of the events it records (a request, a CLI command). */
export function runWithAuditContext<T> (context: AuditContext, work: () => T): T {
  return storage.run(context, work)
}

/** The context of the request or command under way (mutable: authentication names the actor once known); the system outside any. */
export function currentAuditContext (): AuditContext {
  return storage.getStore() ?? SYSTEM
}

/** Names the actor of the request or command under way (nothing outside one: the system stays the system). */
export function setAuditActor (type: AuditActorType, id: string | null): void {
  const context = storage.getStore()
  if (context === undefined) return
  context.actorType = type
  context.actorId = id
}

/**
 * An event about `subjectId` (a user, or null), for a repository to write in the transaction of the
 * change. `data` must stay small and never hold a password, hash, token or secret. The actor is the
 * context's; `actor` overrides it (a login's actor is the user who logged in).
 */
export function auditEvent (
  deps: { now (): Date },
  type: AuditEventType,
  subjectId: string | null,
  data: Record<string, unknown> = {},
  actor?: { type: AuditActorType, id: string | null }
): NewAuditEvent {
  const context = currentAuditContext()
  return {
    id: `evt_${randomUUID().replaceAll('-', '')}`,
    at: deps.now(),
    type,
    actorType: actor?.type ?? context.actorType,
    actorId: actor !== undefined ? actor.id : context.actorId,
    subjectId,
    ip: context.ip,
    userAgent: context.userAgent,
    requestId: context.requestId,
    data
  }
}

/**
 * The session.revoked event of one session (`sessionId`) or of all the user's sessions (undefined),
 * to pass to the repository call that revokes them.
 */
export function sessionRevoked (
  deps: { now (): Date },
  userId: string,
  reason: string,
  sessionId?: string,
  actor?: { type: AuditActorType, id: string | null }
): NewAuditEvent[] {
  return [auditEvent(deps, 'session.revoked', userId, { ...(sessionId !== undefined && { session_id: sessionId }), reason }, actor)]
}
