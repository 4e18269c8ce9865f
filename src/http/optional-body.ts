// A preValidation hook for routes whose JSON body is optional (the cookie can carry the token instead).
import type { FastifyRequest } from 'fastify'

export async function emptyBodyAsObject (request: FastifyRequest): Promise<void> {
  // Fastify leaves a bodiless POST's body undefined, which an object schema would refuse.
  // A JSON `null` was sent on purpose: like any other non-object it is left for the schema to refuse.
  if (request.body === undefined) request.body = {}
}
