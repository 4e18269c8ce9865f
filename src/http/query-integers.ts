// A preValidation hook that reads digits-only query parameters as integers, for schemas that declare them so.
import type { FastifyRequest } from 'fastify'

const DIGITS = /^\d{1,15}$/

/**
 * The app's Ajv never coerces (auth input is taken as sent), so `?limit=10` would arrive as the
 * string "10" and fail an integer schema. This converts the named parameters when, and only when,
 * they are plain digits; anything else ("1e3", "-1", " 5", a repeated parameter) is left as it is
 * for the schema to refuse with a clear message. At most 15 digits, so the number is exact.
 */
export function integerQuery (...names: string[]) {
  return async function integerQueryParams (request: FastifyRequest): Promise<void> {
    const query = request.query as Record<string, unknown>
    for (const name of names) {
      const value = query[name]
      if (typeof value === 'string' && DIGITS.test(value)) query[name] = Number(value)
    }
  }
}
