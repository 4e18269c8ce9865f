// CORS for browser apps on the allowed origins (ALLOWED_ORIGINS): exact origins, with credentials, so
// that an app on another origin can log in and refresh with the cookie.
import fp from 'fastify-plugin'
import cors from '@fastify/cors'
import { trustedOrigins } from '../src/http/origins.js'

export default fp(async function corsPolicy (fastify) {
  const allowed = trustedOrigins(fastify.config)
  await fastify.register(cors, {
    // A function, not the list: for an origin that is not allowed @fastify/cors then adds no CORS
    // header at all (with a list it would still send Allow-Credentials and answer the preflight).
    // The allowed origin is echoed, never `*`, which browsers refuse with credentials anyway.
    origin: (origin, callback) => { callback(null, origin !== undefined && allowed.has(origin)) },
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    exposedHeaders: ['Retry-After', 'WWW-Authenticate', 'X-Request-Id', 'Location'],
    // Browsers cap this anyway (Chromium at 2 h); 10 minutes keeps a tightened list effective soon.
    maxAge: 600
  })
}, { name: 'cors', dependencies: ['config'] })
