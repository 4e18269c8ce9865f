// buildApp(options): the whole service as a Fastify instance, shared by the server, the tests and the bench.
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Piscina } from 'piscina'
import autoload from '@fastify/autoload'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.js'
import { loggerOptions } from './logger.js'
import configPlugin from '../plugins/config.js'
import auditContextPlugin from '../plugins/audit-context.js'
import dbPlugin from '../plugins/db.js'
import passwordHasherPlugin from '../plugins/password-hasher.js'
import keysPlugin from '../plugins/keys.js'
import authPlugin from '../plugins/auth.js'
import authenticatePlugin from '../plugins/authenticate.js'
import guardsPlugin from '../plugins/guards.js'
import refreshCookiePlugin from '../plugins/refresh-cookie.js'
import errorHandlerPlugin, { frameworkError } from '../plugins/error-handler.js'
import swaggerPlugin from '../plugins/swagger.js'
import sessionPrunerPlugin from '../plugins/session-pruner.js'
import webhookDispatcherPlugin from '../plugins/webhook-dispatcher.js'
import socialPlugin from '../plugins/social.js'
import keyMaintenancePlugin from '../plugins/key-maintenance.js'
import backgroundPlugin from '../plugins/background.js'
import mailerPlugin from '../plugins/mailer.js'
import redisPlugin from '../plugins/redis.js'
import rateLimitPlugin from '../plugins/rate-limit.js'
import serviceClientsPlugin from '../plugins/service-clients.js'
import securityHeadersPlugin from '../plugins/security-headers.js'
import corsPlugin from '../plugins/cors.js'
import { version } from './runtime/version.js'
import { utf8BodiesOnly } from './http/charset.js'
import { lazySchemaCompilers } from './http/lazy-schema-compilers.js'

export interface BuildAppOptions {
  config: Config
  /** Pino options, `false` to silence; defaults to JSON logs at config.logLevel. */
  logger?: FastifyServerOptions['logger']
  /** An injected clock for tests. */
  now?: () => Date
  /**
   * Fastify's schemaController option; by default Fastify's compilers, each route's schemas compiled
   * at its first request (src/http/lazy-schema-compilers.ts). The tests pass compilers that share
   * compiled schemas between the hundreds of apps one test process builds (test/schema-compilers.ts).
   */
  schemaController?: FastifyServerOptions['schemaController']
  /**
   * Password-hashing worker threads (src/passwords/hasher.ts createHashWorkers) shared with other
   * apps and left running when this one closes; by default the app starts config.hashWorkers of its
   * own. The tests share one pool between the apps a test process builds; the server never does.
   */
  hashWorkers?: Piscina
}

export const BODY_LIMIT = 64 * 1024

export async function buildApp (options: BuildAppOptions): Promise<FastifyInstance> {
  const { config } = options
  // Fastify 5 fails closed on a bare hop count (it cannot check the peer), which would put every
  // client behind the proxy under one address and one limit. TRUST_PROXY=<n> is the operator's word
  // that the service is reachable only through n proxies, so the nearest n hops are trusted.
  const hops = config.trustProxy
  const trustProxy = typeof hops === 'number' ? (_address: string, hop: number) => hop < hops : hops
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config.logLevel),
    bodyLimit: BODY_LIMIT,
    // No start-up deadline per plugin: each bounds its own waits (the database retries for
    // DATABASE_CONNECT_TIMEOUT, then fails with a message naming the host), and a fixed avvio timeout
    // would only fail the start of a slow or busy machine, or cut that retry short with a vaguer error.
    pluginTimeout: 0,
    genReqId: () => randomUUID(),
    // X-Forwarded-For is believed only from the proxies TRUST_PROXY names.
    trustProxy,
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors: frameworkError,
    schemaController: options.schemaController ?? lazySchemaCompilers,
    ajv: {
      customOptions: {
        // Closed schemas must refuse unknown fields, not silently drop them; auth input is never coerced.
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: true,
        allErrors: true
      }
    }
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.log.info({ version }, `Portcullis ${version} starting (Node ${process.version})`)

  // Only JSON bodies: anything else is a 415, not a string the schemas never expected.
  app.removeContentTypeParser('text/plain')
  // An empty JSON body is no body (a browser fetch that always sets Content-Type, with the token in
  // the cookie); routes that need one refuse it through their schema.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined)
    else parseJson(request, body as string, done)
  })
  // …and bodies are UTF-8 (the form bodies of the OAuth endpoints too): another declared charset is a 415.
  app.addHook('preParsing', utf8BodiesOnly)

  // Callback-style hooks: they run on every request, and an async hook costs a promise each time.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })
  // While shutting down, answers close their keep-alive connections, so the drain ends as soon as
  // the in-flight requests do instead of waiting for idle sockets to time out.
  let closing = false
  app.addHook('preClose', (done) => { closing = true; done() })
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })

  // The registration order, in one place: config → db → keys → mail, limits → auth → swagger → routes.
  await app.register(errorHandlerPlugin)
  await app.register(configPlugin, { config })
  await app.register(auditContextPlugin)
  // Before anything that can answer: every answer carries the headers, and preflights are answered first.
  await app.register(securityHeadersPlugin)
  await app.register(corsPlugin)
  await app.register(dbPlugin)
  await app.register(passwordHasherPlugin, { workers: options.hashWorkers })
  await app.register(keysPlugin, { now: options.now })
  await app.register(backgroundPlugin)
  await app.register(mailerPlugin)
  await app.register(redisPlugin)
  await app.register(rateLimitPlugin)
  await app.register(authPlugin, { now: options.now })
  await app.register(authenticatePlugin)
  await app.register(guardsPlugin)
  await app.register(serviceClientsPlugin)
  await app.register(refreshCookiePlugin)
  await app.register(sessionPrunerPlugin)
  await app.register(webhookDispatcherPlugin)
  await app.register(socialPlugin)
  await app.register(keyMaintenancePlugin)
  await app.register(swaggerPlugin, { version })
  await app.register(autoload, {
    dir: join(import.meta.dirname, '../routes'),
    dirNameRoutePrefix: true
  })

  return app
}
