// /api/admin/webhooks: subscriptions (the secret shown once), their deliveries, and a retry.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { integerQuery } from '../../../src/http/query-integers.js'
import { BAD_ID, EventType } from '../../../src/schemas/admin.js'
import { bodyErrors, PERMISSION_DENIED, problems, UNAUTHENTICATED } from '../../../src/schemas/responses.js'
import { nullable, ref } from '../../../src/schemas/shared.js'
import { createWebhook, deleteWebhook, getWebhook, listDeliveries, listWebhooks, retryDelivery, updateWebhook } from '../../../src/webhooks/webhooks.js'

const DEFAULT_PAGE_SIZE = 50

const Url = Type.String({ minLength: 1, maxLength: 2000, description: 'Where deliveries are POSTed: https, resolving to a public address (checked again at every delivery).', examples: ['https://hooks.example.com/portcullis'] })
const Events = Type.Array(EventType, { minItems: 1, maxItems: 50, uniqueItems: true, description: 'The event types delivered, no duplicates.', examples: [['user.created', 'user.banned', 'session.revoked']] })
const Description = Type.String({ maxLength: 500, pattern: '^[^\\p{Cc}]*$', description: 'For people; no control characters.', examples: ['CRM sync'] })

export const CreateWebhookBody = Type.Object({
  url: Url,
  events: Events,
  description: Type.Optional(Description)
}, { additionalProperties: false, examples: [{ url: 'https://hooks.example.com/portcullis', events: ['user.created', 'user.banned'], description: 'CRM sync' }] })

export const UpdateWebhookBody = Type.Object({
  url: Type.Optional(Url),
  events: Type.Optional(Events),
  description: Type.Optional(nullable(Description))
}, { additionalProperties: false, examples: [{ events: ['user.created'] }] })

const webhookFields = {
  id: Type.String({ description: 'The webhook id.', examples: ['5b0f3c1e-8a2d-4f7b-9c6e-1d2a3b4c5d6e'] }),
  url: Type.String({ description: 'Where deliveries are POSTed.', examples: ['https://hooks.example.com/portcullis'] }),
  events: Type.Array(Type.String({ examples: ['user.banned'] }), { description: 'The event types delivered, sorted.', examples: [['session.revoked', 'user.banned', 'user.created']] }),
  description: nullable(Type.String({ description: 'For people.', examples: ['CRM sync'] })),
  created_at: Type.String({ format: 'date-time', description: 'When it was created.' })
}

export const Webhook = Type.Object(webhookFields, { $id: 'Webhook', additionalProperties: false, description: 'A webhook subscription. Its secret is never shown again.' })

export const NewWebhook = Type.Object({
  ...webhookFields,
  secret: Type.String({ description: 'The signing secret (`whsec_` + base64), shown in this answer only: the receiver verifies `webhook-signature` with it.', examples: ['whsec_MfKQ9r4gKGVJtiMiuOQvW8iFOl0gmXcMAVwIZ5tq30k='] })
}, { additionalProperties: false })

export const Delivery = Type.Object({
  id: Type.String({ description: 'The delivery id.', examples: ['9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a'] }),
  event_id: Type.String({ description: 'The event delivered: the `webhook-id` header and the body\'s `id`.', examples: ['evt_3f1d9c2a7b8e4f5a9c0d1e2f3a4b5c6d'] }),
  type: Type.String({ description: 'The event type.', examples: ['user.banned'] }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')], { description: '`pending` (waiting or retrying), `delivered` (a 2xx), `dead` (retries used up).' }),
  attempts: Type.Integer({ description: 'Attempts made.' }),
  last_error: nullable(Type.String({ description: 'What went wrong the last time (an HTTP status, a timeout, a refused address), or null.', examples: ['HTTP 503'] })),
  next_attempt_at: nullable(Type.String({ format: 'date-time', description: 'When it is tried next; null once delivered or dead.' }))
}, { $id: 'WebhookDelivery', additionalProperties: false, description: 'One event\'s delivery to one webhook.' })

const DeliveryPage = Type.Object({
  items: Type.Array(ref(Delivery), { description: 'Deliveries, newest event first.' }),
  next_cursor: nullable(Type.String({ description: 'Pass as `cursor` for the next page; null on the last page.', examples: ['eyJzZXEiOjQyfQ'] }))
}, { additionalProperties: false })

const WebhookParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, description: 'The webhook id.', examples: ['5b0f3c1e-8a2d-4f7b-9c6e-1d2a3b4c5d6e'] })
})

const DeliveryParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, description: 'The webhook id.', examples: ['5b0f3c1e-8a2d-4f7b-9c6e-1d2a3b4c5d6e'] }),
  delivery_id: Type.String({ minLength: 1, maxLength: 64, description: 'The delivery id.', examples: ['9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a'] })
})

const DeliveriesQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')], { description: 'Only deliveries in this state.' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: DEFAULT_PAGE_SIZE, description: 'Page size, 1 to 200.' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'The `next_cursor` of the previous page; leave out for the first page.', examples: ['eyJzZXEiOjQyfQ'] }))
}, { additionalProperties: false })

const NOT_FOUND: [number, string] = [404, '`not_found`: no such webhook.']

const route: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.addSchema(Webhook)
  fastify.addSchema(Delivery)
  const guard = [fastify.authenticate, fastify.requirePermission('webhooks.manage')]
  const common = { tags: ['admin'], security: [{ bearerAuth: [] }] }

  fastify.get('/webhooks', {
    schema: {
      ...common,
      operationId: 'listWebhooks',
      summary: 'List the webhooks',
      description: 'Requires `webhooks.manage`. Secrets are not shown.',
      response: {
        200: Type.Array(ref(Webhook), { description: 'Every webhook, oldest first.' }),
        ...problems(UNAUTHENTICATED, PERMISSION_DENIED)
      }
    },
    onRequest: guard
  }, async () => listWebhooks(fastify.auth))

  fastify.post('/webhooks', {
    schema: {
      ...common,
      operationId: 'createWebhook',
      summary: 'Subscribe a URL to events',
      description: 'Requires `webhooks.manage`. Deliveries are signed per Standard Webhooks with the secret of this answer (shown once).',
      body: CreateWebhookBody,
      response: {
        201: { ...NewWebhook, description: 'The new webhook, with its secret (shown once).' },
        ...problems(...bodyErrors, UNAUTHENTICATED, PERMISSION_DENIED)
      }
    },
    onRequest: guard
  }, async (request, reply) => reply.code(201).header('cache-control', 'no-store').send(await createWebhook(fastify.auth, request.body)))

  fastify.get('/webhooks/:id', {
    schema: {
      ...common,
      operationId: 'getWebhook',
      summary: 'View a webhook',
      description: 'Requires `webhooks.manage`.',
      params: WebhookParams,
      response: { 200: { ...ref(Webhook), description: 'The webhook.' }, ...problems(BAD_ID, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND) }
    },
    onRequest: guard
  }, async (request) => getWebhook(fastify.auth, request.params.id))

  fastify.patch('/webhooks/:id', {
    schema: {
      ...common,
      operationId: 'updateWebhook',
      summary: 'Change a webhook',
      description: 'Requires `webhooks.manage`. Events already queued are delivered to the new URL; a change of `events` applies to events recorded from now on.',
      params: WebhookParams,
      body: UpdateWebhookBody,
      response: { 200: { ...ref(Webhook), description: 'The webhook as changed.' }, ...problems(...bodyErrors, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND) }
    },
    onRequest: guard
  }, async (request) => updateWebhook(fastify.auth, request.params.id, request.body))

  fastify.delete('/webhooks/:id', {
    schema: {
      ...common,
      operationId: 'deleteWebhook',
      summary: 'Delete a webhook',
      description: 'Requires `webhooks.manage`. Its deliveries, pending ones included, go with it.',
      params: WebhookParams,
      response: { 204: Type.Null({ description: 'Deleted.' }), ...problems(BAD_ID, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND) }
    },
    onRequest: guard
  }, async (request, reply) => {
    await deleteWebhook(fastify.auth, request.params.id)
    return reply.code(204).send(null)
  })

  fastify.get('/webhooks/:id/deliveries', {
    schema: {
      ...common,
      operationId: 'listWebhookDeliveries',
      summary: 'List a webhook\'s deliveries',
      description: 'Requires `webhooks.manage`. Newest event first, a page at a time.',
      params: WebhookParams,
      querystring: DeliveriesQuery,
      response: {
        200: { ...DeliveryPage, description: 'A page of deliveries.' },
        ...problems([400, '`validation_failed`: a malformed id, `status`, `limit` or `cursor`, or an unknown parameter.'], UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND)
      }
    },
    onRequest: guard,
    preValidation: integerQuery('limit')
  }, async (request) => {
    const { status, limit, cursor } = request.query
    return listDeliveries(fastify.auth, request.params.id, { ...(status !== undefined && { status }), ...(cursor !== undefined && { cursor }), limit: limit ?? DEFAULT_PAGE_SIZE })
  })

  fastify.post('/webhooks/:id/deliveries/:delivery_id/retry', {
    schema: {
      ...common,
      operationId: 'retryWebhookDelivery',
      summary: 'Send a delivery again',
      description: 'Requires `webhooks.manage`. The delivery (a dead one too) is due at once, with the same `webhook-id`; it still waits for earlier pending deliveries of the same user.',
      params: DeliveryParams,
      response: {
        202: Type.Null({ description: 'Queued.' }),
        ...problems(BAD_ID, UNAUTHENTICATED, PERMISSION_DENIED, [404, '`not_found`: no such webhook, or no such delivery of it.'])
      }
    },
    onRequest: guard
  }, async (request, reply) => {
    await retryDelivery(fastify.auth, request.params.id, request.params.delivery_id)
    return reply.code(202).send(null)
  })
}

export default route
