// Starts the built service and the baseline on loopback, with the same key, issuer, audience and database.
import { join } from 'node:path'
import { freePort, spawnChild, waitForStatus, type Child } from './children.js'

export const HOST = '127.0.0.1'
const ISSUER = 'http://portcullis.bench'
const AUDIENCE = 'portcullis-bench'

export interface Server {
  child: Child
  origin: string
}

export async function startService (options: {
  root: string
  /** `file:<path>` or a PostgreSQL URL. */
  databaseUrl: string
  privatePem: string
  bcryptCost: number
  hashWorkers?: number
  /** The key's algorithm; RS256 (the default of the service) unless said. */
  algorithm?: 'RS256' | 'ES256'
}): Promise<Server> {
  const port = await freePort()
  const origin = `http://${HOST}:${port}`
  const child = spawnChild('service', ['dist/src/server.js'], {
    cwd: options.root,
    env: {
      NODE_ENV: 'production',
      PORT: String(port),
      HOST,
      PUBLIC_URL: origin,
      DATABASE_URL: options.databaseUrl,
      LOG_LEVEL: 'warn',
      COOKIE_SECURE: 'false',
      PRUNE_INTERVAL: '0',
      BCRYPT_COST: String(options.bcryptCost),
      ...(options.hashWorkers !== undefined && { HASH_WORKERS: String(options.hashWorkers) }),
      JWT_PRIVATE_KEY: options.privatePem,
      JWT_ALGORITHM: options.algorithm ?? 'RS256',
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      // The /me tokens are minted once at set-up; a long BENCH_DURATION must not outlive them.
      ACCESS_TOKEN_TTL: '1h',
      // Every request comes from one address: the per-address limits would measure 429s, not the service.
      RATE_LIMIT_REFRESH_IP: 'off',
      RATE_LIMIT_LOGIN_IP: 'off',
      RATE_LIMIT_REGISTER_IP: 'off',
      RATE_LIMIT_LOGIN_ACCOUNT: 'off',
      RATE_LIMIT_LOGIN_REQUESTS_IP: 'off'
    }
  })
  await waitForStatus(child, `${origin}/health/ready`, 200)
  return { child, origin }
}

/** Start it after the service: it opens the service's database read-only and needs the tables. */
export async function startBaseline (options: { root: string, databasePath: string, publicPem: string }): Promise<Server> {
  const port = await freePort()
  const origin = `http://${HOST}:${port}`
  const child = spawnChild('baseline', ['--import', 'tsx', join('bench', 'baseline.ts')], {
    cwd: options.root,
    env: {
      NODE_ENV: 'production',
      PORT: String(port),
      HOST,
      DATABASE_PATH: options.databasePath,
      JWT_PUBLIC_KEY: options.publicPem,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE
    }
  })
  // Without a token the baseline answers 401: that is enough to know it listens.
  await waitForStatus(child, `${origin}/me`, 401)
  return { child, origin }
}
