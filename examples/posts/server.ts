// Runs the posts example: configuration from the environment, then listen (see README.md beside this file).
import { buildPostsApp } from './app.js'

const env = process.env
const portcullisUrl = env.PORTCULLIS_URL ?? 'http://localhost:3000'
const clientId = env.PORTCULLIS_CLIENT_ID
const clientSecret = env.PORTCULLIS_CLIENT_SECRET

const app = await buildPostsApp({
  logger: { level: env.LOG_LEVEL ?? 'info' },
  portcullis: {
    issuer: env.PORTCULLIS_ISSUER ?? portcullisUrl,
    audience: env.PORTCULLIS_AUDIENCE ?? 'portcullis',
    jwksUrl: `${portcullisUrl}/.well-known/jwks.json`,
    // Without a registered client the service still works; revoked tokens then live until they expire.
    ...(clientId !== undefined && clientSecret !== undefined && {
      revocations: {
        url: `${portcullisUrl}/api/auth/revocations`,
        client: { id: clientId, secret: clientSecret },
        intervalMs: Number(env.REVOCATIONS_INTERVAL_MS ?? 30_000)
      }
    })
  }
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}
await app.listen({ port: Number(env.PORT ?? 4000), host: env.HOST ?? '127.0.0.1' })
