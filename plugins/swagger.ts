// The OpenAPI 3.1 document (/docs/json) and Swagger UI (/docs), with the shared schemas as components.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { emptyBodyAsObject } from '../src/http/optional-body.js'
import { sharedSchemas } from '../src/schemas/shared.js'
import { ANY_OPERATION_NOTE, documentAnyOperation, documentMfaPolicy } from '../src/schemas/any-operation.js'

export default fp(async function openapi (fastify, options: { version: string }) {
  for (const schema of sharedSchemas) fastify.addSchema(schema)
  const { config } = fastify
  // Swagger UI sends "Try it out" to the document's server. A relative one is the address the docs
  // were opened at (127.0.0.1 or localhost alike, no CORS); PUBLIC_URL only when it was set, for a
  // service behind a proxy. (Unset, it defaults to http://localhost:PORT.)
  const publicUrlSet = config.publicUrl !== `http://localhost:${config.port}`
  const server = publicUrlSet ? { url: config.publicUrl } : { url: '/', description: 'The server this document was fetched from.' }

  // @fastify/swagger marks every body required; refresh and logout also take the token from the cookie alone.
  const optionalBodies = new Set<string>()
  // The operations MFA_REQUIRED_FOR leaves open (a second factor's enrolment); it can close any other that takes a bearer token.
  const enrolment = new Set<string>()
  fastify.addHook('onRoute', route => {
    const path = route.url.replace(/:(\w+)/g, '{$1}')
    const methods = [route.method].flat().map(method => `${method.toLowerCase()} ${path}`)
    if ([route.preValidation].flat().includes(emptyBodyAsObject)) for (const key of methods) optionalBodies.add(key)
    if (route.config?.mfaEnrolment === true) for (const key of methods) enrolment.add(key)
  })

  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Portcullis',
        version: options.version,
        description: 'Authentication service: registration, login with short-lived access JWTs and rotating refresh tokens, sessions, and a JWKS for services that verify tokens offline. Every error is `application/problem+json` with a stable `code`. ' + ANY_OPERATION_NOTE
      },
      servers: [server],
      tags: [
        { name: 'auth', description: 'Registration, login and tokens' },
        { name: 'account', description: 'The signed-in user: profile, password, sessions' },
        { name: 'admin', description: 'Users, groups and permissions (permission-guarded)' },
        { name: 'social', description: 'Log in with Google or GitHub (authorization code with PKCE), link and unlink providers' },
        { name: 'mfa', description: 'Second factors: TOTP enrolment, passkeys (WebAuthn), recovery codes, the second step of a login, step-up to aal2' },
        { name: 'oauth', description: 'Service clients: client credentials tokens, introspection, revocation and the revocation feed (OAuth endpoints answer RFC 6749 errors)' },
        { name: 'keys', description: 'Public keys and discovery for token verifiers' },
        { name: 'django', description: 'djangorestframework-simplejwt\'s routes, bodies and errors (not problem+json), with DJANGO_COMPAT=true: for front ends written against the Django system this service replaces' },
        { name: 'health', description: 'Liveness and readiness probes' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from login or refresh.' },
          clientBasic: { type: 'http', scheme: 'basic', description: 'A service client\'s id and secret (form-encoded, as RFC 6749 §2.3.1 says).' },
          clientBearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A client access token from POST /oauth/token.' },
          refreshCookie: { type: 'apiKey', in: 'cookie', name: 'refresh_token', description: 'The HttpOnly refresh cookie set by login and refresh.' }
        }
      }
    },
    transformObject (document) {
      if (!('openapiObject' in document)) return document.swaggerObject
      for (const [path, item] of Object.entries(document.openapiObject.paths ?? {})) {
        for (const [method, operation] of Object.entries(item ?? {})) {
          if (typeof operation !== 'object' || operation === null || Array.isArray(operation)) continue
          const op = operation as { requestBody?: { required?: boolean }, security?: unknown[] }
          if (op.requestBody !== undefined && optionalBodies.has(`${method} ${path}`)) op.requestBody.required = false
          // Public operations say so (`security: []`), so that generators and linters need not guess.
          op.security ??= []
          documentAnyOperation(path, method, operation)
          const bearer = op.security.some(scheme => typeof scheme === 'object' && scheme !== null && 'bearerAuth' in scheme)
          if (bearer && !enrolment.has(`${method} ${path}`)) documentMfaPolicy(path, operation)
        }
      }
      return document.openapiObject
    },
    // Name components after their $id (User, Problem, ...) instead of def-0, def-1.
    refResolver: {
      buildLocalReference (json, _baseUri, _fragment, i) {
        return typeof json.$id === 'string' ? json.$id : `def-${i}`
      }
    }
  })

  // DOCS_ENABLED=false: no /docs, /docs/json or /docs/static (the document is still built, for
  // `npm run openapi`).
  if (!config.docsEnabled) return
  await fastify.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { persistAuthorization: true, deepLinking: true }
  })
}, { name: 'swagger', dependencies: ['config'] })
