// GET /api/admin/audit: the audit log, filtered, a page at a time, oldest first.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { listAudit } from '../../../src/audit/log.js'
import { integerQuery } from '../../../src/http/query-integers.js'
import { EventType } from '../../../src/schemas/admin.js'
import { PERMISSION_DENIED, problems, UNAUTHENTICATED } from '../../../src/schemas/responses.js'
import { nullable, ref } from '../../../src/schemas/shared.js'

const DEFAULT_PAGE_SIZE = 100

export const AuditQuery = Type.Object({
  type: Type.Optional(EventType),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\p{Cc}]+$', description: 'Only events about this user (its id, the subject).', examples: ['7f1c2b9e-3d4a-4b8e-9c1f-2a6d5e8b0c13'] })),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Only events at or after this instant.', examples: ['2026-11-01T00:00:00Z'] })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Only events before this instant.', examples: ['2026-12-01T00:00:00Z'] })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULT_PAGE_SIZE, description: 'Page size, 1 to 1000.' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The `next_cursor` of the previous page (with the same filters); leave out for the first page.', examples: ['YXVkaXQ6NDI'] }))
}, { additionalProperties: false })

export const AuditEntry = Type.Object({
  id: Type.String({ description: 'The event id; a webhook delivery of it carries the same id (`webhook-id`).', examples: ['evt_3f1d9c2a7b8e4f5a9c0d1e2f3a4b5c6d'] }),
  at: Type.String({ format: 'date-time', description: 'When the change was made.' }),
  type: Type.String({ description: 'The event type.', examples: ['user.login'] }),
  actor_type: Type.String({ description: '`user` (a user, `actor_id` null when not signed in), `client` (a service client), `cli` (an operator, `actor_id` the OS user) or `system`.', examples: ['user'] }),
  actor_id: nullable(Type.String({ description: 'Who made the change: a user id, a client id, the operator\'s OS user, or null.', examples: ['7f1c2b9e-3d4a-4b8e-9c1f-2a6d5e8b0c13'] })),
  subject_id: nullable(Type.String({ description: 'The user the event is about, or null (a key, a client, an unknown account).', examples: ['7f1c2b9e-3d4a-4b8e-9c1f-2a6d5e8b0c13'] })),
  ip: nullable(Type.String({ description: 'The client address of the request, or null.', examples: ['203.0.113.7'] })),
  user_agent: nullable(Type.String({ description: 'The User-Agent of the request (512 characters at most), or null.', examples: ['Mozilla/5.0 (X11; Linux x86_64)'] })),
  request_id: nullable(Type.String({ description: 'The request id (as in the logs and problem answers), or null.', examples: ['req-1a2b'] })),
  data: Type.Object({}, { additionalProperties: true, description: 'A small object describing the change; never a password, hash, token or secret.' })
}, { $id: 'AuditEntry', additionalProperties: false, description: 'One audit log entry.' })

export const AuditPage = Type.Object({
  items: Type.Array(ref(AuditEntry), { description: 'Entries, oldest first.' }),
  next_cursor: nullable(Type.String({ description: 'Pass as `cursor` for the next page; null on the last page.', examples: ['YXVkaXQ6NDI'] }))
}, { $id: 'AuditPage', additionalProperties: false, description: 'One page of the audit log.' })

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.addSchema(AuditEntry)
  fastify.addSchema(AuditPage)

  fastify.get('/audit', {
    schema: {
      operationId: 'listAuditEvents',
      summary: 'Read the audit log',
      description: 'Requires `audit.view`. Oldest first, a page at a time: follow `next_cursor` until it is null. Entries older than AUDIT_RETENTION are pruned.',
      tags: ['admin'],
      security: [{ bearerAuth: [] }],
      querystring: AuditQuery,
      response: {
        200: { ...ref(AuditPage), description: 'A page of the audit log.' },
        ...problems([400, '`validation_failed`: an unknown `type`, a malformed date, `limit` or `cursor`, or an unknown parameter.'], UNAUTHENTICATED, PERMISSION_DENIED)
      }
    },
    onRequest: [fastify.authenticate, fastify.requirePermission('audit.view')],
    preValidation: integerQuery('limit')
  }, async (request) => {
    const { type, user, since, until, limit, cursor } = request.query
    return listAudit(fastify.auth, {
      ...(type !== undefined && { type }),
      ...(user !== undefined && { user }),
      ...(since !== undefined && { since: new Date(since) }),
      ...(until !== undefined && { until: new Date(until) }),
      limit: limit ?? DEFAULT_PAGE_SIZE,
      ...(cursor !== undefined && { cursor })
    })
  })
}

export default route
