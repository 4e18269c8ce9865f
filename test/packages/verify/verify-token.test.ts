// verifyAccessToken against the test kit's issuer: what passes, what is refused, and the key set cache.
import t, { type Test } from 'tap'
import { RevocationList, TokenInvalidError, VerifierUnavailableError, verifyAccessToken, type VerifyOptions } from '@portcullis/verify'
import { startIssuer, type LocalIssuer } from '@portcullis/verify/testing'

async function issuer (t: Test, options: Parameters<typeof startIssuer>[0] = {}): Promise<LocalIssuer> {
  const started = await startIssuer(options)
  t.teardown(() => started.close())
  return started
}

function optionsFor (iss: LocalIssuer, extra: Partial<VerifyOptions> = {}): VerifyOptions {
  return { issuer: iss.issuer, audience: iss.audience, ...extra }
}

/** A token with `alg: none` and no signature (RFC 7519 §6), for the issuer's claims. */
function unsecured (iss: LocalIssuer): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  return `${encode({ alg: 'none', typ: 'at+jwt' })}.${encode({ iss: iss.issuer, aud: iss.audience, sub: 'u1', iat: now, exp: now + 60, jti: 'j', token_type: 'access' })}.`
}

t.test('a token shaped like Portcullis\'s verifies and its claims come back', async t => {
  const iss = await issuer(t)
  const token = await iss.mint({ sub: 'user-1', permissions: ['posts.add'], groups: ['editors'] })
  const claims = await verifyAccessToken(token, optionsFor(iss))
  t.match(claims, { sub: 'user-1', user_id: 'user-1', token_type: 'access', permissions: ['posts.add'], groups: ['editors'], iss: iss.issuer, aud: 'portcullis' })
  t.type(claims.sid, 'string')
})

t.test('ES256 and EdDSA tokens verify when those algorithms are accepted', async t => {
  for (const algorithm of ['ES256', 'EdDSA'] as const) {
    const iss = await issuer(t, { algorithm })
    const claims = await verifyAccessToken(await iss.mint({ sub: algorithm }), optionsFor(iss, { algorithms: [algorithm] }))
    t.equal(claims.sub, algorithm)
  }
})

t.test('refused: expired, wrong issuer, wrong audience, algorithm not accepted, alg none, wrong typ, not an access token', async t => {
  const iss = await issuer(t)
  const es = await issuer(t, { algorithm: 'ES256' })
  const cases: Array<[string, Promise<string> | string, VerifyOptions]> = [
    ['expired', iss.mint({}, { expiresIn: -10 }), optionsFor(iss)],
    ['wrong issuer', iss.mint({ iss: 'https://evil.example' }), optionsFor(iss)],
    ['wrong audience', iss.mint({ aud: 'another-service' }), optionsFor(iss)],
    ['algorithm not accepted (ES256 where RS256 is pinned)', es.mint(), optionsFor(es)],
    ['alg none', unsecured(iss), optionsFor(iss)],
    ['typ JWT instead of at+jwt', iss.mint({}, { header: { typ: 'JWT' } }), optionsFor(iss)],
    ['token_type refresh', iss.mint({ token_type: 'refresh' as 'access' }), optionsFor(iss)],
    ['no jti', iss.mint({ jti: undefined }), optionsFor(iss)],
    ['not a JWT at all', 'abc.def', optionsFor(iss)],
    ['signed by a key the JWKS does not publish', iss.mint({}, { unpublishedKey: true }), optionsFor(iss)]
  ]
  for (const [name, token, options] of cases) {
    await t.rejects(verifyAccessToken(await token, options), TokenInvalidError, name)
  }
})

t.test('a clock tolerance accepts a token that expired within it', async t => {
  const iss = await issuer(t)
  const token = await iss.mint({}, { expiresIn: -5 })
  t.ok(await verifyAccessToken(token, optionsFor(iss, { clockToleranceSeconds: 30 })))
})

t.test('a new kid after a key rotation makes the key set be fetched again', async t => {
  const iss = await issuer(t)
  const options = optionsFor(iss, { jwksCooldownMs: 0 })
  await verifyAccessToken(await iss.mint(), options)
  await verifyAccessToken(await iss.mint(), options)
  t.equal(iss.requests.jwks, 1, 'the key set is cached')
  await iss.rotateKey({ retireOld: true })
  const claims = await verifyAccessToken(await iss.mint({ sub: 'after-rotation' }), options)
  t.equal(claims.sub, 'after-rotation')
  t.equal(iss.requests.jwks, 2, 'fetched once more for the unknown kid')
})

t.test('a flood of made-up kids does not hammer the JWKS (refetch cooldown)', async t => {
  const iss = await issuer(t)
  const options = optionsFor(iss)
  await verifyAccessToken(await iss.mint(), options)
  const forged = await Promise.all(Array.from({ length: 50 }, (_, i) => iss.mint({}, { header: { kid: `made-up-${i}` } })))
  const results = await Promise.allSettled(forged.map(token => verifyAccessToken(token, options)))
  t.ok(results.every(r => r.status === 'rejected' && r.reason instanceof TokenInvalidError), 'every forged kid is refused')
  t.equal(iss.requests.jwks, 1, 'no fetch during the cooldown')
})

t.test('an unreachable key set is "unavailable", not an invalid token', async t => {
  const iss = await startIssuer()
  const token = await iss.mint()
  await iss.close()
  await t.rejects(verifyAccessToken(token, optionsFor(iss, { jwksTimeoutMs: 1000 })), VerifierUnavailableError)
})

t.test('revocations: a listed session, and a user not-before after the token was issued', async t => {
  const iss = await issuer(t)
  const revocations = new RevocationList(60_000)
  const options = optionsFor(iss, { revocations })
  const sessionToken = await iss.mint({ sid: 'session-1' })
  const userToken = await iss.mint({ sub: 'user-2' })
  const other = await iss.mint({ sub: 'user-3', sid: 'session-3' })
  revocations.apply([{ sid: 'session-1', not_before: new Date().toISOString() }, { sub: 'user-2', not_before: new Date(Date.now() + 1000).toISOString() }])
  await t.rejects(verifyAccessToken(sessionToken, options), { name: 'TokenInvalidError', reason: /session has ended/ })
  await t.rejects(verifyAccessToken(userToken, options), { name: 'TokenInvalidError', reason: /before the user's tokens were revoked/ })
  t.ok(await verifyAccessToken(other, options), 'other tokens still pass')
})

t.test('time claims as Portcullis checks them: whole seconds, iat not in the future, a bounded lifetime', async t => {
  const iss = await issuer(t)
  const options = optionsFor(iss, { maxTokenLifetimeSeconds: 300 })
  const now = Math.floor(Date.now() / 1000)
  const bad: Array<[string, Record<string, unknown>]> = [
    ['iat in the future', { iat: now + 600, exp: now + 900 }],
    ['a fractional exp', { iat: now, exp: now + 300.5 }],
    ['a fractional iat', { iat: now + 0.5, exp: now + 300 }],
    ['exp in milliseconds', { iat: now, exp: (now + 300) * 1000 }],
    ['exp years away', { iat: now, exp: now + 5 * 365 * 86400 }],
    ['over the lifetime and the skew', { iat: now, exp: now + 300 + 31 }],
    ['a string exp', { iat: now, exp: String(now + 300) }],
    ['a fractional nbf', { iat: now, exp: now + 300, nbf: now - 0.5 }]
  ]
  for (const [name, claims] of bad) {
    await t.rejects(verifyAccessToken(await iss.mint(claims), options), TokenInvalidError, name)
  }
  const good: Array<[string, Record<string, unknown>]> = [
    ['iat within the skew', { iat: now + 10, exp: now + 310 }],
    ['the lifetime plus the skew', { iat: now, exp: now + 330 }],
    ['an integer nbf', { iat: now, exp: now + 300, nbf: now }]
  ]
  for (const [name, claims] of good) t.ok(await verifyAccessToken(await iss.mint(claims), options), name)
  await t.rejects(verifyAccessToken(await iss.mint({ iat: now, exp: now + 7200 }), optionsFor(iss)), TokenInvalidError, 'the default bound is an hour')
  t.ok(await verifyAccessToken(await iss.mint({ iat: now, exp: now + 7200 }), optionsFor(iss, { maxTokenLifetimeSeconds: 7200 })), 'raised for a longer ACCESS_TOKEN_TTL')
})

t.test('the issuer down for the key set: known keys keep verifying, a new kid is unavailable, and it catches up', async t => {
  const iss = await issuer(t)
  // A key set always past its max age: every verification would refetch it.
  const options = optionsFor(iss, { jwksMaxAgeMs: 1, jwksCooldownMs: 0 })
  const token = await iss.mint()
  t.ok(await verifyAccessToken(token, options))
  iss.setJwksAvailable(false)
  const asked = iss.requests.jwks
  t.ok(await verifyAccessToken(token, options), 'the refresh failed; the known key still verifies')
  t.ok(await verifyAccessToken(await iss.mint({ sub: 'new-token' }), options), 'so does a new token of a known key')
  t.ok(iss.requests.jwks > asked, 'the issuer was asked')
  await t.rejects(verifyAccessToken(await iss.mint({}, { header: { kid: 'made-up' } }), options), VerifierUnavailableError, 'an unknown kid needs the issuer')
  await iss.rotateKey()
  const rotated = await iss.mint({ sub: 'rotated' })
  await t.rejects(verifyAccessToken(rotated, options), VerifierUnavailableError, 'a new key cannot be known yet: unavailable, not invalid')
  t.ok(await verifyAccessToken(token, options), 'the old key still verifies')
  iss.setJwksAvailable(true)
  t.equal((await verifyAccessToken(rotated, options)).sub, 'rotated', 'back: the new key is fetched')
})

t.test('after a failed refresh, known keys are served without asking the issuer again until the cooldown ends', async t => {
  const iss = await issuer(t)
  const options = optionsFor(iss, { jwksMaxAgeMs: 1, jwksCooldownMs: 60_000 })
  const token = await iss.mint()
  t.ok(await verifyAccessToken(token, options))
  iss.setJwksAvailable(false)
  t.ok(await verifyAccessToken(token, options))
  const asked = iss.requests.jwks
  for (let i = 0; i < 5; i++) t.ok(await verifyAccessToken(token, options))
  await t.rejects(verifyAccessToken(await iss.mint({}, { header: { kid: 'made-up' } }), options), VerifierUnavailableError)
  t.equal(iss.requests.jwks, asked, 'a hanging or failing issuer is not asked on every request')
})

t.test('a revoked client token (a {jti} item) is refused; other tokens of the client pass', async t => {
  const iss = await issuer(t)
  const revocations = new RevocationList(60_000)
  const options = optionsFor(iss, { revocations })
  const revoked = await iss.mintClientToken('billing', ['orders.read'])
  const other = await iss.mintClientToken('billing', ['orders.read'])
  const jti = JSON.parse(Buffer.from(revoked.split('.')[1], 'base64url').toString()).jti
  t.equal(revocations.apply([{ jti, not_before: new Date().toISOString() }]), 1)
  await t.rejects(verifyAccessToken(revoked, options), { name: 'TokenInvalidError', reason: /token was revoked/ })
  t.ok(await verifyAccessToken(other, options))
})
