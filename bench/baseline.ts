// The yardsticks: bare Fastify doing what GET /api/auth/me must do (verify the JWT, one SQLite lookup),
// nothing else; and /hello, bare Fastify doing nothing at all (the ceiling of any route on this machine).
import Database from 'better-sqlite3'
import Fastify from 'fastify'
import jwt from '@fastify/jwt'
import { ACCESS_TOKEN_TYPE, REQUIRED_CLAIMS } from '../src/sessions/access-tokens.js'

function required (name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is required`)
  return value
}

const port = Number(required('PORT'))
const host = required('HOST')
const publicPem = required('JWT_PUBLIC_KEY')
const issuer = required('JWT_ISSUER')
const audience = required('JWT_AUDIENCE')

// Read-only on the service's own file (already migrated by the service): the same rows, the same pages.
const db = new Database(required('DATABASE_PATH'), { readonly: true, fileMustExist: true })
const sessionWithUser = db.prepare<[string], { id: string, email: string, username: string, revoked_at: number | null }>(
  `SELECT u.id, u.email, u.username, s.revoked_at
     FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.id = ?`
)

const app = Fastify({ logger: false })

// The verify options of plugins/keys.ts; a static public key, as a bare verifier would have.
await app.register(jwt, {
  secret: { public: publicPem },
  decode: { complete: true },
  verify: {
    algorithms: ['RS256'],
    allowedIss: issuer,
    allowedAud: audience,
    requiredClaims: REQUIRED_CLAIMS,
    checkTyp: ACCESS_TOKEN_TYPE,
    cache: 10_000
  } as object
})

app.get('/me', async (request, reply) => {
  const claims = await request.jwtVerify<{ sid: string }>()
  const row = sessionWithUser.get(claims.sid)
  if (row === undefined || row.revoked_at !== null) return reply.code(401).send({ error: 'session ended' })
  return { id: row.id, email: row.email, username: row.username }
})

app.get('/hello', async () => ({ hello: 'world' }))

app.addHook('onClose', async () => { db.close() })
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}

await app.listen({ port, host })
