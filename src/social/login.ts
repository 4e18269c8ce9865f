// Social login: the server-driven redirect flow, the client-driven code exchange, linking and unlinking.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import { UniqueViolation, type SocialAccountRecord, type UserRecord } from '../../db/repositories.js'
import type { AuthDeps, ClientInfo } from '../deps.js'
import { errors } from '../errors.js'
import { normaliseEmail } from '../accounts/identifiers.js'
import { hashOpaqueToken } from '../sessions/opaque-tokens.js'
import { assertMayLogIn, startSession, type LoginResult } from '../sessions/sessions.js'
import { requireSecondFactor, type MfaRequired } from '../mfa/second-factor.js'
import { loadUserView, type UserView } from '../accounts/user-view.js'
import { providerProblem, socialErrors } from './errors.js'
import type { ProviderIdentity, SocialProvider } from './provider.js'
import { isAllowedRedirect, withQuery } from './redirects.js'
import { usernameBase, usernameCandidates } from './usernames.js'
import { auditEvent } from '../audit/events.js'

/** The state, PKCE verifier and nonce of a redirect flow live this long, and work once. */
export const LOGIN_STATE_TTL_MS = 10 * 60 * 1000

export interface SocialDeps extends AuthDeps {
  providers: ReadonlyMap<string, SocialProvider>
}

export interface SocialLoginResult extends LoginResult {
  /** Whether the login created the account. */
  created: boolean
}

/** A social login of an account with a second factor: no session yet, an mfa_token for /api/auth/mfa/verify. */
export type SocialMfaRequired = MfaRequired & { created: false }

/** What the client of the client-driven flow brings back from the provider. */
export interface ClientGrant {
  code: string
  codeVerifier: string
  redirectUri: string
  /** The nonce the client sent to an OpenID provider, if it sent one. */
  nonce?: string
}

export function findProvider (deps: SocialDeps, name: string): SocialProvider {
  const provider = deps.providers.get(name)
  if (provider === undefined) throw socialErrors.unknownProvider(name)
  return provider
}

/** Where the provider sends the browser back to in the redirect flow. */
export function callbackUrl (deps: Pick<SocialDeps, 'config'>, provider: string): string {
  return `${deps.config.publicUrl}/api/auth/social/${provider}/callback`
}

/** Where an app sends the browser to start the redirect flow. */
export function authorizeUrl (deps: Pick<SocialDeps, 'config'>, provider: string): string {
  return `${deps.config.publicUrl}/api/auth/social/${provider}/authorize`
}

async function withProvider<T> (exchange: () => Promise<T>): Promise<T> {
  try {
    return await exchange()
  } catch (err) {
    throw await providerProblem(err)
  }
}

/**
 * The `state` of a redirect flow is derived from a random binding value that only the browser which
 * started the flow holds (in a short-lived cookie): a callback URL opened in any other browser cannot
 * produce it, so an attacker cannot log a victim into the attacker's account (login CSRF, RFC 6749
 * §10.12, RFC 9700 §4.7). The state, which travels through the provider and its logs, reveals nothing
 * of the binding value.
 */
export function stateOfBinding (binding: string): string {
  return createHash('sha256').update(`portcullis social login state\0${binding}`).digest('base64url')
}

function bindingMatches (state: string, binding: string | undefined): boolean {
  if (binding === undefined || binding === '') return false
  const expected = Buffer.from(stateOfBinding(binding))
  const presented = Buffer.from(state)
  return expected.length === presented.length && timingSafeEqual(expected, presented)
}

export interface RedirectStart {
  /** The provider's authorization URL. */
  url: URL
  /** The value the starting browser must bring back to the callback (the route keeps it in a cookie). */
  binding: string
}

/** Step one of the redirect flow: remember state, verifier and nonce here, and send the browser to the provider. */
export async function startRedirectLogin (deps: SocialDeps, providerName: string, redirectTo: string | undefined): Promise<RedirectStart> {
  const provider = findProvider(deps, providerName)
  if (redirectTo === undefined || !isAllowedRedirect(redirectTo, deps.config.social.redirectAllowlist)) throw socialErrors.invalidRedirect()
  // Loaded with the first provider enabled (plugins/social.ts), never by a server without one.
  const oidc = await import('openid-client')
  const binding = oidc.randomState()
  const state = stateOfBinding(binding)
  const codeVerifier = oidc.randomPKCECodeVerifier()
  const nonce = provider.usesNonce ? oidc.randomNonce() : null
  const url = await withProvider(async () => provider.authorizationUrl({
    redirectUri: callbackUrl(deps, providerName),
    state,
    codeChallenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    nonce
  }))
  const now = deps.now()
  // Only a hash of the state is stored: the database alone cannot complete someone's login.
  await deps.repositories.socialAccounts.saveState(hashOpaqueToken(state), {
    provider: providerName, codeVerifier, nonce, redirectTo, createdAt: now, expiresAt: new Date(now.getTime() + LOGIN_STATE_TTL_MS)
  })
  return { url, binding }
}

export type CallbackOutcome =
  | { kind: 'logged_in', redirectTo: string, login: SocialLoginResult }
  | { kind: 'mfa_required', redirectTo: string }
  | { kind: 'failed', redirectTo: string }

/**
 * Step two: the provider sent the browser back. A wrong, expired or replayed state, or one this
 * browser did not start (`binding` missing or not the state's), is a 400 (there is no trusted place
 * to send the browser); any later failure goes back to the app as `?error=<code>`.
 */
export async function finishRedirectLogin (deps: SocialDeps, providerName: string, query: URLSearchParams, binding: string | undefined, client: ClientInfo): Promise<CallbackOutcome> {
  const provider = findProvider(deps, providerName)
  const state = query.get('state')
  // Checked before the state is consumed: a planted callback URL cannot spend the victim's own flow.
  if (state === null || !bindingMatches(state, binding)) throw socialErrors.invalidState()
  const saved = await deps.repositories.socialAccounts.consumeState(hashOpaqueToken(state), deps.now())
  if (saved === undefined || saved.provider !== providerName) throw socialErrors.invalidState()
  // The user said no at the provider, or the provider refused the request.
  if (query.has('error')) return { kind: 'failed', redirectTo: withQuery(saved.redirectTo, { error: 'access_denied' }) }
  try {
    const answer = new URL(callbackUrl(deps, providerName))
    for (const [name, value] of query) answer.searchParams.append(name, value)
    const identity = await withProvider(() => provider.identify({
      callbackUrl: answer,
      codeVerifier: saved.codeVerifier,
      expectedState: state,
      ...(saved.nonce !== null && { expectedNonce: saved.nonce })
    }))
    const login = await signInWithIdentity(deps, providerName, identity, client)
    if ('mfa_required' in login) {
      // The app finishes the login with a code: the mfa_token goes in the fragment, which is neither
      // sent to any server nor put in a Referer; it opens nothing without the second factor.
      return { kind: 'mfa_required', redirectTo: withFragment(saved.redirectTo, { mfa_required: 'true', mfa_token: login.mfa_token, methods: login.methods.join(',') }) }
    }
    return { kind: 'logged_in', redirectTo: saved.redirectTo, login }
  } catch (err) {
    const problem = await providerProblem(err)
    return { kind: 'failed', redirectTo: withQuery(saved.redirectTo, { error: problem.code }) }
  }
}

/** The client ran the provider's flow itself (with its own PKCE pair); we exchange its code. */
async function identifyGrant (deps: SocialDeps, provider: SocialProvider, grant: ClientGrant): Promise<ProviderIdentity> {
  // The code is bound to this redirect URI at the provider; it must be one of ours or the allow-list's.
  if (grant.redirectUri !== callbackUrl(deps, provider.name) && !isAllowedRedirect(grant.redirectUri, deps.config.social.redirectAllowlist)) {
    throw socialErrors.invalidRedirect('redirect_uri')
  }
  const answer = new URL(grant.redirectUri)
  answer.searchParams.set('code', grant.code)
  return withProvider(() => provider.identify({
    callbackUrl: answer,
    codeVerifier: grant.codeVerifier,
    ...(grant.nonce !== undefined && { expectedNonce: grant.nonce })
  }))
}

function withFragment (url: string, values: Record<string, string>): string {
  const target = new URL(url)
  target.hash = new URLSearchParams(values).toString()
  return target.href
}

export async function loginWithGrant (deps: SocialDeps, providerName: string, grant: ClientGrant, client: ClientInfo): Promise<SocialLoginResult | SocialMfaRequired> {
  const provider = findProvider(deps, providerName)
  return signInWithIdentity(deps, providerName, await identifyGrant(deps, provider, grant), client)
}

function newLink (provider: string, identity: ProviderIdentity, userId: string, now: Date, loggedIn: boolean): SocialAccountRecord {
  return {
    id: randomUUID(),
    provider,
    providerUserId: identity.providerUserId,
    userId,
    email: identity.email === null ? null : normaliseEmail(identity.email),
    linkedAt: now,
    lastLoginAt: loggedIn ? now : null
  }
}

/** A new account from a provider identity: verified address, no usable password, a unique username. */
async function createSocialUser (deps: SocialDeps, provider: string, identity: ProviderIdentity, email: string): Promise<UserRecord> {
  const now = deps.now()
  const { users, socialAccounts } = deps.repositories
  let attempts = 0
  for (const username of usernameCandidates(usernameBase(identity.preferredUsername ?? email.split('@')[0]))) {
    if (await users.findByUsername(username) !== undefined) continue
    const id = randomUUID()
    try {
      return await socialAccounts.createUserWithLink(
        { id, email, username, passwordHash: null, dateJoined: now, emailVerified: true },
        newLink(provider, identity, id, now, true),
        [auditEvent(deps, 'user.created', id, { username, email, provider }, { type: 'user', id })])
    } catch (err) {
      // Lost a race for the username: try the next one. For the email or the identity: let the caller decide.
      if (!(err instanceof UniqueViolation && err.field === 'username') || ++attempts > 5) throw err
    }
  }
  /* c8 ignore next */
  throw new Error('unreachable: the username candidates never end')
}

/**
 * Links a verified identity to the existing account with its address. If that account never proved
 * it owns the address, whoever created it may not be its owner (a pre-hijacked account): its password
 * is made unusable and its sessions are revoked, so only the provider's user gets in; they can set a
 * password again through the reset flow.
 */
async function claimExistingAccount (deps: SocialDeps, provider: string, identity: ProviderIdentity, owner: UserRecord): Promise<UserRecord> {
  const now = deps.now()
  const { sessions, socialAccounts } = deps.repositories
  await socialAccounts.link(newLink(provider, identity, owner.id, now, true))
  if (owner.emailVerified) return owner
  // In one transaction: a password login in flight finds the hash gone and gets no session.
  const claimed = await sessions.updateUserAndRevoke(owner.id, {
    patch: { emailVerified: true, passwordHash: null },
    now,
    reason: 'claimed_by_provider',
    events: [auditEvent(deps, 'email.verified', owner.id, { email: owner.email, provider }, { type: 'user', id: owner.id })]
  })
  return claimed?.user ?? owner
}

/**
 * The account of a provider identity: found by the provider's user id; else the account with the
 * same address, only when the provider verified it (else 409 account_exists); else a new account
 * (only from a verified address). Then the account-state rules of password login, and a session.
 */
export async function signInWithIdentity (deps: SocialDeps, provider: string, identity: ProviderIdentity, client: ClientInfo): Promise<SocialLoginResult | SocialMfaRequired> {
  const now = deps.now()
  const { users, socialAccounts } = deps.repositories
  const linked = await socialAccounts.find(provider, identity.providerUserId)
  let user: UserRecord | undefined
  let created = false
  if (linked !== undefined) {
    user = await users.findById(linked.userId)
    if (user === undefined) throw errors.userInactive()
    assertMayLogIn(deps, user, now)
    await socialAccounts.recordLogin(linked.id, now, identity.email === null ? null : normaliseEmail(identity.email))
  } else {
    if (identity.email === null) throw socialErrors.emailNotVerified()
    const email = normaliseEmail(identity.email)
    const owner = await users.findByEmail(email)
    if (owner !== undefined) {
      if (!identity.emailVerified) throw socialErrors.accountExists()
      // Refused before anything is linked: a banned or disabled account gains nothing from this login.
      assertMayLogIn(deps, { ...owner, emailVerified: true }, now)
      user = await claimExistingAccount(deps, provider, identity, owner)
    } else {
      if (!identity.emailVerified) throw socialErrors.emailNotVerified()
      try {
        user = await createSocialUser(deps, provider, identity, email)
      } catch (err) {
        // Another login created the account or linked the identity a moment ago: the next attempt finds it.
        if (err instanceof UniqueViolation) throw socialErrors.accountExists()
        throw err
      }
      created = true
    }
  }
  // A provider is one factor: an account with a second factor is asked for it, as after a password.
  const mfa = created ? undefined : await requireSecondFactor(deps, user.id, ['fed'])
  if (mfa !== undefined) return { ...mfa, created: false }
  return { ...await startSession(deps, user, client), created }
}

/** Links a provider identity to the signed-in user; linking the same identity again is a no-op. */
export async function linkIdentity (deps: SocialDeps, userId: string, providerName: string, grant: ClientGrant): Promise<UserView> {
  const provider = findProvider(deps, providerName)
  const identity = await identifyGrant(deps, provider, grant)
  const { users, socialAccounts } = deps.repositories
  const linked = await socialAccounts.find(providerName, identity.providerUserId)
  if (linked !== undefined && linked.userId !== userId) throw socialErrors.alreadyLinked()
  if (linked === undefined) {
    try {
      await socialAccounts.link(newLink(providerName, identity, userId, deps.now(), false))
    } catch (err) {
      if (err instanceof UniqueViolation) throw socialErrors.alreadyLinked()
      throw err
    }
  }
  const user = await users.findById(userId)
  if (user === undefined) throw errors.userInactive()
  return loadUserView(deps.repositories, user)
}

/** Unlinks a provider, unless it is the account's last way in (no password, no other provider). */
export async function unlinkProvider (deps: SocialDeps, userId: string, providerName: string): Promise<void> {
  // No provider check: an identity stays unlinkable after its provider is turned off.
  const outcome = await deps.repositories.socialAccounts.unlink(userId, providerName)
  if (outcome === 'not_linked') throw errors.notFound(`No ${providerName} identity is linked to this account.`)
  if (outcome === 'last_login_method') throw socialErrors.lastLoginMethod()
}
