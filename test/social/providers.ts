// Real local login providers for the social login tests: oauth2-mock-server as Google (OpenID Connect,
// PKCE checked, ID tokens signed with its own JWKS) and a small GitHub-shaped OAuth 2 server.
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { OAuth2Server } from 'oauth2-mock-server'
import { build, rawDatabase, testDatabaseUrl } from '../helper.js'

interface Teardown { teardown (fn: () => unknown): void }

export const APP_REDIRECT = 'https://app.example.com/auth/done'
export const CLIENT_REDIRECT = 'https://app.example.com/auth/callback'
export const ALLOWLIST = 'https://app.example.com/auth'

export interface OidcIdentity {
  sub: string
  email?: string
  email_verified?: boolean
  [claim: string]: unknown
}

export interface OidcProvider {
  issuer: string
  server: OAuth2Server
  /** The identity the next ID tokens carry; change it between logins. */
  identity: OidcIdentity
  env: Record<string, string>
}

export async function startOidcProvider (t: Teardown): Promise<OidcProvider> {
  const server = new OAuth2Server()
  await server.issuer.keys.generate('RS256')
  await server.start(0, '127.0.0.1')
  const issuer = server.issuer.url!
  const provider: OidcProvider = {
    issuer,
    server,
    identity: { sub: randomUUID(), email: 'ada@gmail.test', email_verified: true },
    env: { GOOGLE_CLIENT_ID: 'google-client', GOOGLE_CLIENT_SECRET: 'google-secret', GOOGLE_ISSUER: issuer, SOCIAL_REDIRECT_ALLOWLIST: ALLOWLIST }
  }
  server.service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }) => {
    Object.assign(token.payload, provider.identity)
  })
  t.teardown(() => server.stop())
  return provider
}

export interface GithubEmail { email: string, primary: boolean, verified: boolean }
export interface GithubUser { id: number, login: string, emails: GithubEmail[] }

export interface GithubProvider {
  origin: string
  /** The user the next authorization is for. */
  user: GithubUser
  /** Codes handed out, with what they were bound to. */
  codes: Map<string, { challenge: string, redirectUri: string, user: GithubUser }>
  /** When set, the API answers every request with this status. */
  failWith?: number
  env: Record<string, string>
  close (): Promise<void>
}

function readBody (req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', chunk => { body += chunk })
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })
}

let githubIds = 1000

/** A GitHub user with one verified primary address. */
export function githubUser (login: string, email = `${login}@users.github.test`, verified = true): GithubUser {
  githubIds += 1
  return { id: githubIds, login, emails: [{ email, primary: true, verified }] }
}

/**
 * GitHub's behaviour where it matters: PKCE checked at the token endpoint, a bad code answered with
 * HTTP 200 and `{"error":"bad_verification_code"}`, tokens that work once, /user and /user/emails.
 */
export async function startGithubProvider (t: Teardown): Promise<GithubProvider> {
  const tokens = new Map<string, GithubUser>()
  const github: GithubProvider = {
    origin: '',
    user: githubUser('octocat'),
    codes: new Map(),
    env: {},
    close: async () => {}
  }
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body))
  }
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', github.origin)
    if (github.failWith !== undefined) return json(res, github.failWith, { message: 'Server Error' })
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      const redirectUri = url.searchParams.get('redirect_uri')!
      const code = randomBytes(10).toString('hex')
      github.codes.set(code, { challenge: url.searchParams.get('code_challenge') ?? '', redirectUri, user: github.user })
      const back = new URL(redirectUri)
      back.searchParams.set('code', code)
      const state = url.searchParams.get('state')
      if (state !== null) back.searchParams.set('state', state)
      res.writeHead(302, { location: back.href }).end()
      return
    }
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      readBody(req).then(raw => {
        const form = (req.headers['content-type'] ?? '').includes('json') ? new URLSearchParams(JSON.parse(raw)) : new URLSearchParams(raw)
        const bound = github.codes.get(form.get('code') ?? '')
        github.codes.delete(form.get('code') ?? '')
        const verifier = form.get('code_verifier') ?? ''
        const challenge = createHash('sha256').update(verifier).digest('base64url')
        const clientOk = form.get('client_id') === 'github-client' && form.get('client_secret') === 'github-secret'
        if (!clientOk) return json(res, 200, { error: 'incorrect_client_credentials' })
        if (bound === undefined || bound.challenge !== challenge || bound.redirectUri !== form.get('redirect_uri')) {
          return json(res, 200, { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' })
        }
        const token = `gho_${randomBytes(12).toString('hex')}`
        tokens.set(token, bound.user)
        json(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' })
      }).catch(() => res.destroy())
      return
    }
    const user = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''))
    if (user === undefined) return json(res, 401, { message: 'Bad credentials' })
    if (req.method === 'GET' && url.pathname === '/user') return json(res, 200, { id: user.id, login: user.login, email: null })
    if (req.method === 'GET' && url.pathname === '/user/emails') return json(res, 200, user.emails.map(e => ({ ...e, visibility: null })))
    json(res, 404, { message: 'Not Found' })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  github.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  github.env = {
    GITHUB_CLIENT_ID: 'github-client',
    GITHUB_CLIENT_SECRET: 'github-secret',
    GITHUB_AUTHORIZE_URL: `${github.origin}/login/oauth/authorize`,
    GITHUB_TOKEN_URL: `${github.origin}/login/oauth/access_token`,
    GITHUB_API_URL: github.origin,
    SOCIAL_REDIRECT_ALLOWLIST: ALLOWLIST
  }
  let closed = false
  github.close = async () => {
    if (closed) return
    closed = true
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  }
  t.teardown(() => github.close())
  return github
}

/** A PKCE pair, as a client running the flow itself makes one. */
export function pkcePair (): { verifier: string, challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/** Follows one redirect by hand and returns where it points. */
export async function nextLocation (url: string): Promise<string> {
  const res = await fetch(url, { redirect: 'manual' })
  const location = res.headers.get('location')
  if (res.status !== 302 || location === null) throw new Error(`expected a redirect from ${url}, got ${res.status} ${await res.text()}`)
  return location
}

/** An app on a fresh database (SQLite file or PostgreSQL), with a second connection to look at what it stored. */
export async function buildSocialApp (t: Teardown, env: Record<string, string>, options: { now?: () => Date } = {}) {
  const databaseUrl = await testDatabaseUrl(t)
  const app = await build(t, { databaseUrl }, { env, ...options })
  const db = rawDatabase(t, databaseUrl)
  const count = async (table: string) => (await db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0].n
  return { app, db, count }
}

/** What the client-driven flow posts: the code the provider redirected with, and the client's own verifier. */
export interface Grant { code: string, code_verifier: string, redirect_uri: string, nonce?: string }

/** What a mobile app or SPA does with Google: its own PKCE pair, the provider's authorize step, the code from the redirect. */
export async function googleGrant (google: OidcProvider, options: { nonce?: string } = {}): Promise<Grant> {
  const { verifier, challenge } = pkcePair()
  const url = new URL(`${google.issuer}/authorize`)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'google-client',
    redirect_uri: CLIENT_REDIRECT,
    scope: 'openid email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(options.nonce !== undefined && { nonce: options.nonce })
  }).toString()
  const code = new URL(await nextLocation(url.href)).searchParams.get('code')!
  return { code, code_verifier: verifier, redirect_uri: CLIENT_REDIRECT, ...(options.nonce !== undefined && { nonce: options.nonce }) }
}

export async function githubGrant (github: GithubProvider): Promise<Grant> {
  const { verifier, challenge } = pkcePair()
  const url = new URL(github.env.GITHUB_AUTHORIZE_URL)
  url.search = new URLSearchParams({ client_id: 'github-client', redirect_uri: CLIENT_REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' }).toString()
  const code = new URL(await nextLocation(url.href)).searchParams.get('code')!
  return { code, code_verifier: verifier, redirect_uri: CLIENT_REDIRECT }
}
