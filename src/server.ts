// The production entry point: the only reader of process.env; listens, and shuts down gracefully.
// Nothing but V8's young-generation setting is imported statically: the rest is imported once it
// holds (src/runtime/young-generation.ts), since a static import is parsed before any code runs.
import { releaseYoungGeneration } from './runtime/young-generation.js'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { Config } from './config.js'
import type { StartupContext } from './runtime/startup-failure.js'

let context: StartupContext = {}

async function main (): Promise<void> {
  const [{ loadConfig }, { databaseKind }] = await Promise.all([import('./config.js'), import('../db/database-url.js')])
  const config: Config = loadConfig(process.env, { readFile: (path) => readFileSync(path, 'utf8') })
  const url = config.databaseUrl
  context = {
    host: config.host,
    port: config.port,
    ...(databaseKind(url) === 'sqlite' && { sqlitePath: url === ':memory:' ? url : url.slice('file:'.length) })
  }

  const [{ buildApp }, { default: closeWithGrace }, { version }] = await Promise.all([import('./app.js'), import('close-with-grace'), import('./runtime/version.js')])
  const app = await buildApp({ config })

  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish, close the pool and the database.
  closeWithGrace({ delay: 10_000, logger: app.log }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down')
    await app.close()
  })

  await app.listen({ port: config.port, host: config.host })
  releaseYoungGeneration()
  const { address, port } = app.server.address() as AddressInfo
  const everywhere = address === '0.0.0.0' || address === '::'
  const local = `http://${everywhere ? 'localhost' : address.includes(':') ? `[${address}]` : address}:${port}`
  app.log.info(`Portcullis ${version} is listening on ${everywhere ? `port ${port} of every interface (${local})` : local}; its public URL is ${config.publicUrl}`)
  if (config.docsEnabled) app.log.info(`API documentation (Swagger UI): ${local}/docs, the OpenAPI document: ${local}/docs/json`)
}

main().catch(async (err) => {
  // One line that says what to fix (a variable, a path, a port), never a secret; the stack only
  // when asked for (LOG_LEVEL=debug or trace) or for an error nobody foresaw.
  const { describeStartupFailure, redact, secretsOf } = await import('./runtime/startup-failure.js')
  const failure = describeStartupFailure(err, context)
  const debug = ['debug', 'trace'].includes((process.env.LOG_LEVEL ?? '').trim().toLowerCase())
  const hint = failure.expected || debug ? '' : ' (LOG_LEVEL=debug prints the stack)'
  const stack = debug && err instanceof Error && err.stack !== undefined ? `\n${err.stack}` : ''
  process.stderr.write(redact(`Portcullis failed to start: ${failure.message}${hint}${stack}\n`, secretsOf(process.env)))
  process.exit(failure.exitCode)
})
