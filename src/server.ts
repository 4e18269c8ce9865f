// The production entry point: the only reader of process.env; listens, and shuts down gracefully.
import { readFileSync } from 'node:fs'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'

async function main (): Promise<void> {
  let config
  try {
    config = loadConfig(process.env, { readFile: (path) => readFileSync(path, 'utf8') })
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(78) // EX_CONFIG
    }
    throw err
  }

  const app = await buildApp({ config })

  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish, close the pool and the database.
  closeWithGrace({ delay: 10_000, logger: app.log }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down')
    await app.close()
  })

  await app.listen({ port: config.port, host: config.host })
}

main().catch((err) => {
  // A setting found wrong only once the database is read (KEY_ENCRYPTION_KEY that does not open the
  // stored keys): a configuration error like the others, one line and exit 78.
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`)
    process.exit(78) // EX_CONFIG
  }
  // An unreachable database is the operator's to fix: the message says where (never with the
  // password); a stack trace would only bury it.
  const detail = err instanceof Error && err.name === 'DatabaseUnavailableError' ? err.message : (err as Error).stack ?? err
  process.stderr.write(`Portcullis failed to start: ${detail}\n`)
  process.exit(1)
})
