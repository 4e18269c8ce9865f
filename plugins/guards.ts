// Route guards in the spirit of Django's permission_required and staff_member_required:
//   onRequest: [fastify.authenticate, fastify.requirePermission('users.ban')]
// They read the principal that `authenticate` loaded from the database, never the token's claims,
// so a revoked permission or a ban applies at once.
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { errors } from '../src/errors.js'
import { hasSecondFactor } from '../src/mfa/second-factor.js'

type Guard = (request: FastifyRequest) => Promise<void>

declare module 'fastify' {
  interface FastifyInstance {
    /** 403 permission_denied unless the user has every listed permission (a superuser has all). */
    requirePermission (...codenames: string[]): Guard
    /** 403 permission_denied unless the user is staff (or a superuser). */
    requireStaff: Guard
    /** 403 permission_denied unless the user is a superuser: for what no permission can grant (signing keys). */
    requireSuperuser: Guard
    /**
     * 401 step_up_required (RFC 9470 WWW-Authenticate) unless the access token is `acr: aal2` or the
     * user has no second factor: for the sensitive self-service operations.
     */
    requireStepUp: Guard
  }
}

export default fp(async function guards (fastify) {
  fastify.decorate('requirePermission', (...codenames: string[]): Guard => async (request) => {
    const principal = request.principal
    if (principal === null) throw errors.notAuthenticated()
    if (principal.user.isSuperuser) return
    const held = principal.authorization.permissions
    const missing = codenames.filter(codename => !held.includes(codename))
    if (missing.length > 0) throw errors.permissionDenied(missing)
  })

  fastify.decorate('requireStaff', async (request: FastifyRequest) => {
    const principal = request.principal
    if (principal === null) throw errors.notAuthenticated()
    if (!principal.user.isStaff && !principal.user.isSuperuser) throw errors.permissionDenied()
  })

  fastify.decorate('requireSuperuser', async (request: FastifyRequest) => {
    const principal = request.principal
    if (principal === null) throw errors.notAuthenticated()
    if (!principal.user.isSuperuser) throw errors.permissionDeniedBecause('Only a superuser may do this.')
  })
  fastify.decorate('requireStepUp', async (request: FastifyRequest) => {
    const principal = request.principal
    if (principal === null) throw errors.notAuthenticated()
    if (principal.claims.acr === 'aal2') return
    if (await hasSecondFactor(fastify.auth, principal.user.id)) throw errors.stepUpRequired()
  })
}, { name: 'guards', dependencies: ['authenticate', 'auth'] })
