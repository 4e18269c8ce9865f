// Route guards for downstream services, in the spirit of Django's permission_required:
//   fastify.post('/posts', { onRequest: requirePermission('posts.add') }, handler)
// Each one authenticates first, so a route needs a single guard.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { permissionsOf, scopesOf, type VerifiedToken } from './claims.js'
import { refuse, refusals, type Refusal } from './problems.js'

export type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>

/** Builds a guard: authenticate, then `check` the token (a refusal, or undefined to let it through). */
function guard (check: (token: VerifiedToken) => Refusal | undefined): Guard {
  return async function (request, reply) {
    const verifier = request.server.portcullis
    if (verifier === undefined) throw new Error('register the portcullis-verify plugin before using its guards')
    if (request.accessToken === null) {
      const { token, refusal } = await verifier.authenticate(request)
      if (refusal !== undefined) return refuse(request, reply, verifier.realm, refusal)
      request.accessToken = token
    }
    const refusal = check(request.accessToken)
    if (refusal !== undefined) return refuse(request, reply, verifier.realm, refusal)
  }
}

/** 401 unless the request carries a valid, unrevoked access token (user or client); sets `request.accessToken`. */
export const requireAuthentication: Guard = guard(() => undefined)

/** 403 permission_denied unless the token's `permissions` claim holds every codename. */
export function requirePermission (...codenames: string[]): Guard {
  return guard(token => {
    const held = permissionsOf(token)
    const missing = codenames.filter(codename => !held.includes(codename))
    return missing.length > 0 ? refusals.permissionDenied(missing) : undefined
  })
}

/** 403 permission_denied (`insufficient_scope`) unless the token's `scope` claim holds every scope. */
export function requireScope (...scopes: string[]): Guard {
  return guard(token => {
    const held = scopesOf(token)
    const missing = scopes.filter(scope => !held.includes(scope))
    return missing.length > 0 ? refusals.scopeDenied(missing) : undefined
  })
}

/** The authentication levels Portcullis issues, weakest first. */
const ACR_LEVELS = ['aal1', 'aal2']

/**
 * 401 step_up_required with `WWW-Authenticate: Bearer error="insufficient_user_authentication",
 * acr_values="<acr>"` (RFC 9470) unless the token's `acr` is `acr` or stronger: the client raises
 * the session at Portcullis (POST /api/auth/mfa/step-up) and retries with the new token.
 */
export function requireAcr (acr: 'aal1' | 'aal2'): Guard {
  const needed = ACR_LEVELS.indexOf(acr)
  if (needed === -1) throw new Error(`requireAcr: unknown level ${String(acr)} (one of ${ACR_LEVELS.join(', ')})`)
  return guard(token => {
    const held = typeof token.acr === 'string' ? ACR_LEVELS.indexOf(token.acr) : -1
    return held >= needed ? undefined : refusals.stepUpRequired(acr)
  })
}
