// The accounts and sessions the scenarios need, created through the public API like any client would.
import { generateKeyPairSync } from 'node:crypto'

export const PASSWORD = 'bench password 2024'

export interface BenchUser {
  email: string
  username: string
}

export interface Session {
  access: string
  refresh: string
}

/** A fresh RS256 key pair: the service signs with the private half, the baseline verifies with the public one. */
export function generateRsaKeyPair (): { privatePem: string, publicPem: string } {
  return pemsOf(generateKeyPairSync('rsa', { modulusLength: 2048 }))
}

/** A fresh ES256 (P-256) key pair, for the service run with JWT_ALGORITHM=ES256. */
export function generateEcKeyPair (): { privatePem: string, publicPem: string } {
  return pemsOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }))
}

function pemsOf ({ privateKey, publicKey }: ReturnType<typeof generateKeyPairSync>): { privatePem: string, publicPem: string } {
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString()
  }
}

async function postJson (url: string, body: unknown): Promise<{ status: number, json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000)
  })
  const text = await response.text()
  let json: Record<string, unknown> = {}
  try {
    json = JSON.parse(text)
  } catch {
    json = { body: text }
  }
  return { status: response.status, json }
}

export function loginBody (user: BenchUser): string {
  return JSON.stringify({ email: user.email, password: PASSWORD })
}

export async function registerUsers (origin: string, count: number): Promise<BenchUser[]> {
  const users = Array.from({ length: count }, (_, i) => ({ email: `bench-${i}@example.com`, username: `bench_${i}` }))
  await Promise.all(users.map(async (user) => {
    const { status, json } = await postJson(`${origin}/api/auth/register`, { ...user, password: PASSWORD })
    if (status !== 201) throw new Error(`register ${user.email}: HTTP ${status} ${JSON.stringify(json)}`)
  }))
  return users
}

/**
 * `count` logins spread over `users`: each one is a session of its own. A few at a time: all at
 * once would queue for the hashing pool past the request time-out on a busy machine.
 */
export async function loginMany (origin: string, users: BenchUser[], count: number, concurrency = 4): Promise<Session[]> {
  const sessions: Session[] = []
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const user = users[next++ % users.length]
      const { status, json } = await postJson(`${origin}/api/auth/login`, { email: user.email, password: PASSWORD })
      if (status !== 200 || typeof json.access !== 'string' || typeof json.refresh !== 'string') {
        throw new Error(`login ${user.email}: HTTP ${status} ${JSON.stringify(json)}`)
      }
      sessions.push({ access: json.access, refresh: json.refresh })
    }
  }))
  return sessions
}
