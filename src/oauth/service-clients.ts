// oauth/: service clients, their credentials and tokens, scopes, and the rules of the token, introspection and revocation endpoints.
// Registered service clients: creation (the secret shown once), listing, deletion, and authenticating
// a client by its id and secret.
import { randomUUID, timingSafeEqual } from 'node:crypto'
import type { ServiceClientRecord } from '../../db/repositories.js'
import type { AuthDeps } from '../deps.js'
import type { ClientCredentials } from './client-credentials.js'
import { errors } from '../errors.js'
import { oauthErrors } from './errors.js'
import { hashOpaqueToken, newOpaqueToken } from '../sessions/opaque-tokens.js'
import { auditEvent } from '../audit/events.js'

export interface ClientView {
  client_id: string
  name: string
  scopes: string[]
  created_at: string
  last_used_at: string | null
}

export interface NewClientView extends ClientView {
  /** Shown once, in the answer to the creation; only its hash is stored. */
  client_secret: string
}

/** last_used_at is written at most this often per client: one write a minute, not one per token. */
export const LAST_USED_RESOLUTION_MS = 60_000

export function clientView (client: ServiceClientRecord): ClientView {
  return {
    client_id: client.id,
    name: client.name,
    scopes: client.scopes,
    created_at: client.createdAt.toISOString(),
    last_used_at: client.lastUsedAt?.toISOString() ?? null
  }
}

export async function createClient (deps: AuthDeps, input: { name: string, scopes: string[] }): Promise<NewClientView> {
  // 256 random bits: the same generator and SHA-256 storage as the refresh tokens (no bcrypt needed).
  const secret = newOpaqueToken()
  const id = randomUUID()
  const client = await deps.repositories.serviceClients.create({
    id,
    name: input.name,
    scopes: [...new Set(input.scopes)].sort(),
    secretHash: hashOpaqueToken(secret),
    createdAt: deps.now(),
    lastUsedAt: null
  }, [auditEvent(deps, 'client.created', null, { client_id: id, name: input.name, scopes: [...new Set(input.scopes)].sort() })])
  return { ...clientView(client), client_secret: secret }
}

export async function listClients (deps: AuthDeps): Promise<ClientView[]> {
  return (await deps.repositories.serviceClients.list()).map(clientView)
}

/** Deleting a client ends its tokens: introspection and the feed report them revoked. */
export async function deleteClient (deps: AuthDeps, id: string): Promise<void> {
  if (!await deps.repositories.serviceClients.delete(id, deps.now(), [auditEvent(deps, 'client.deleted', null, { client_id: id })])) throw errors.notFound('No such client.')
}

// Compared against when the client id is unknown, so that an unknown id and a wrong secret take as long.
const DUMMY_HASH = hashOpaqueToken('portcullis-no-such-client')

function sameHash (a: string, b: string): boolean {
  // Both are hex SHA-256 digests of the same length: timingSafeEqual never sees unequal lengths.
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'))
}

/** The client these credentials name, if the secret is right; `invalid_client` otherwise. */
export async function authenticateClient (deps: AuthDeps, credentials: ClientCredentials): Promise<ServiceClientRecord> {
  const found = credentials.clientId.length <= 200 ? await deps.repositories.serviceClients.findWithSecret(credentials.clientId) : undefined
  const presented = hashOpaqueToken(credentials.secret)
  const matches = sameHash(presented, found?.secretHash ?? DUMMY_HASH)
  if (found === undefined || !matches) throw oauthErrors.invalidClient()
  const { secretHash: _secretHash, ...client } = found
  await deps.repositories.serviceClients.touch(client.id, deps.now(), LAST_USED_RESOLUTION_MS)
  return client
}
