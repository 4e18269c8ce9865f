// Security events: the refusals an operator's alerting watches for, logged at warn by the error handler.
import type { FastifyRequest } from 'fastify'

export type SecurityEventName = 'login_failed' | 'login_locked_out' | 'refresh_token_reused' | 'csrf_refused' | 'passkey_counter_regressed'

export interface SecurityEvent {
  event: SecurityEventName
  /** The account concerned, when one is known (never what was typed: that may be a password). */
  accountId?: string
  sessionId?: string
  /** The WebAuthn credential id concerned (public: it names the credential, it proves nothing). */
  credentialId?: string
}

/** The log message of each event: README lists them, so that alerting can match them. */
export const SECURITY_EVENT_MESSAGES: Record<SecurityEventName, string> = {
  login_failed: 'security: login failed',
  login_locked_out: 'security: login refused, too many failures (locked out)',
  refresh_token_reused: 'security: refresh token reused, session revoked',
  csrf_refused: 'security: cookie request refused (CSRF)',
  passkey_counter_regressed: 'security: passkey signature counter did not increase (a cloned authenticator?), refused'
}

const EVENT = Symbol('securityEvent')

/** Marks a domain error as a security event; the error handler logs it when it answers. */
export function withSecurityEvent<E extends Error> (err: E, event: SecurityEvent): E {
  Object.defineProperty(err, EVENT, { value: event, enumerable: false })
  return err
}

/** A 429 of the login throttle is a lockout: marked with the account when one is known. */
export function asLockout (err: unknown, accountId: string | undefined): unknown {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  return code === 'rate_limited' ? withSecurityEvent(err as Error, { event: 'login_locked_out', ...(accountId !== undefined && { accountId }) }) : err
}

function securityEventOf (err: unknown): SecurityEvent | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const marked = (err as { [EVENT]?: SecurityEvent })[EVENT]
  if (marked !== undefined) return marked
  // Every CSRF refusal, wherever it is made: the cookie is never read, so no account is known.
  if ((err as { code?: unknown }).code === 'csrf_failed') return { event: 'csrf_refused' }
  return undefined
}

/**
 * One warn line per event, with ids and the request's origin facts only: never the password, a
 * token or a cookie (the logger's redaction covers the request headers besides).
 */
export function logSecurityEvent (request: FastifyRequest, err: unknown): void {
  const event = securityEventOf(err)
  if (event === undefined) return
  const { origin, 'sec-fetch-site': fetchSite } = request.headers
  request.log.warn({
    securityEvent: event.event,
    ...(event.accountId !== undefined && { accountId: event.accountId }),
    ...(event.sessionId !== undefined && { sessionId: event.sessionId }),
    ...(event.credentialId !== undefined && { credentialId: event.credentialId }),
    ...(event.event === 'csrf_refused' && { origin, fetchSite }),
    ip: request.ip
  }, SECURITY_EVENT_MESSAGES[event.event])
}
