import { generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'
import { parseDuration } from '../src/runtime/durations.js'

const PEM = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()

t.test('defaults give a working local configuration', async t => {
  const config = loadConfig({})
  t.equal(config.port, 3000)
  t.equal(config.host, '127.0.0.1')
  t.equal(config.databaseUrl, 'file:./data/portcullis.db')
  t.equal(config.publicUrl, 'http://localhost:3000')
  t.equal(config.jwtIssuer, 'http://localhost:3000')
  t.equal(config.jwtAudience, 'portcullis')
  t.equal(config.jwtAlgorithm, 'RS256')
  t.equal(config.accessTokenTtl, 300)
  t.equal(config.refreshTokenTtl, 7 * 86400)
  t.equal(config.refreshReuseGrace, 10)
  t.equal(config.refreshTokenInBody, true)
  t.equal(config.cookieSecure, true)
  t.same(config.allowedOrigins, [])
  t.equal(config.bcryptCost, 10)
  t.equal(config.logLevel, 'info')
})

t.test('every variable is read', async t => {
  const config = loadConfig({
    PORT: '8080',
    HOST: '0.0.0.0',
    DATABASE_URL: 'file:/tmp/x.db',
    PUBLIC_URL: 'https://auth.example.com/',
    JWT_ISSUER: 'https://issuer.example.com',
    JWT_AUDIENCE: 'api',
    JWT_ALGORITHM: 'es256',
    ACCESS_TOKEN_TTL: '1h',
    REFRESH_TOKEN_TTL: '30d',
    REFRESH_REUSE_GRACE: '0',
    REFRESH_TOKEN_IN_BODY: 'false',
    COOKIE_SECURE: 'no',
    ALLOWED_ORIGINS: 'https://app.example.com, https://admin.example.com/',
    BCRYPT_COST: '12',
    LOG_LEVEL: 'warn'
  })
  t.equal(config.port, 8080)
  t.equal(config.host, '0.0.0.0')
  t.equal(config.databaseUrl, 'file:/tmp/x.db')
  t.equal(config.publicUrl, 'https://auth.example.com', 'trailing slash dropped')
  t.equal(config.jwtIssuer, 'https://issuer.example.com')
  t.equal(config.jwtAudience, 'api')
  t.equal(config.jwtAlgorithm, 'ES256')
  t.equal(config.accessTokenTtl, 3600)
  t.equal(config.refreshTokenTtl, 30 * 86400)
  t.equal(config.refreshReuseGrace, 0)
  t.equal(config.refreshTokenInBody, false)
  t.equal(config.cookieSecure, false)
  t.same(config.allowedOrigins, ['https://app.example.com', 'https://admin.example.com'])
  t.equal(config.bcryptCost, 12)
  t.equal(config.logLevel, 'warn')
})

const bad: Array<[Record<string, string>, string]> = [
  [{ PORT: 'eighty' }, 'PORT'],
  [{ PORT: '70000' }, 'PORT'],
  [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
  [{ DATABASE_URL: 'postgres.example.com' }, 'DATABASE_URL'],
  [{ DATABASE_URL: 'file:' }, 'DATABASE_URL'],
  [{ DATABASE_URL: 'postgres://db.example.com:99999/portcullis' }, 'DATABASE_URL'],
  [{ DATABASE_POOL_MAX: '0' }, 'DATABASE_POOL_MAX'],
  [{ DATABASE_POOL_MAX: 'ten' }, 'DATABASE_POOL_MAX'],
  [{ DATABASE_POOL_MAX: '1001' }, 'DATABASE_POOL_MAX'],
  [{ DATABASE_CONNECT_TIMEOUT: '0' }, 'DATABASE_CONNECT_TIMEOUT'],
  [{ DATABASE_CONNECT_TIMEOUT: 'a while' }, 'DATABASE_CONNECT_TIMEOUT'],
  [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL'],
  [{ PUBLIC_URL: 'ftp://example.com' }, 'PUBLIC_URL'],
  [{ JWT_ALGORITHM: 'none' }, 'JWT_ALGORITHM'],
  [{ JWT_ALGORITHM: 'HS256' }, 'JWT_SECRET'],
  [{ JWT_ALGORITHM: 'HS256', JWT_SECRET: 'too short' }, 'JWT_SECRET'],
  [{ JWT_ALGORITHM: 'HS256', JWT_SECRET: 'x'.repeat(32), JWT_PRIVATE_KEY: 'pem' }, 'JWT_PRIVATE_KEY'],
  [{ JWT_PRIVATE_KEY: 'a', JWT_PRIVATE_KEY_FILE: '/x' }, 'JWT_PRIVATE_KEY_FILE'],
  [{ ACCESS_TOKEN_TTL: '5 minutes' }, 'ACCESS_TOKEN_TTL'],
  [{ ACCESS_TOKEN_TTL: '0' }, 'ACCESS_TOKEN_TTL'],
  [{ REFRESH_TOKEN_TTL: '-1' }, 'REFRESH_TOKEN_TTL'],
  [{ REFRESH_REUSE_GRACE: '8d' }, 'REFRESH_REUSE_GRACE'],
  [{ REFRESH_TOKEN_IN_BODY: 'maybe' }, 'REFRESH_TOKEN_IN_BODY'],
  [{ COOKIE_SECURE: '2' }, 'COOKIE_SECURE'],
  [{ ALLOWED_ORIGINS: 'app.example.com' }, 'ALLOWED_ORIGINS'],
  [{ WEBAUTHN_RP_ID: 'https://example.com' }, 'WEBAUTHN_RP_ID'],
  [{ WEBAUTHN_RP_ID: 'example.com:443' }, 'WEBAUTHN_RP_ID'],
  [{ WEBAUTHN_RP_ID: 'example..com' }, 'WEBAUTHN_RP_ID'],
  [{ WEBAUTHN_ORIGINS: 'app.example.com' }, 'WEBAUTHN_ORIGINS'],
  [{ PUBLIC_URL: 'https://auth.example.com', WEBAUTHN_ORIGINS: 'https://evil.test' }, 'WEBAUTHN_ORIGINS'],
  [{ WEBAUTHN_RP_ID: 'example.com', PUBLIC_URL: 'https://auth.example.org' }, 'WEBAUTHN_ORIGINS'],
  [{ BCRYPT_COST: '3' }, 'BCRYPT_COST'],
  [{ BCRYPT_COST: '10.5' }, 'BCRYPT_COST'],
  [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  [{ HASH_WORKERS: '0' }, 'HASH_WORKERS'],
  [{ SMTP_URL: 'not a url' }, 'SMTP_URL'],
  [{ SMTP_URL: 'http://mail.example.com' }, 'SMTP_URL'],
  [{ SMTP_URL: 'smtp://' }, 'SMTP_URL'],
  [{ MAIL_FROM: 'ab' }, 'MAIL_FROM'],
  [{ MAIL_FROM: 'Portcullis' }, 'MAIL_FROM'],
  [{ MAIL_FROM: 'Portcullis <no-reply>' }, 'MAIL_FROM'],
  [{ VERIFY_EMAIL_URL: 'not a url' }, 'VERIFY_EMAIL_URL'],
  [{ VERIFY_EMAIL_URL: 'javascript:alert(1)' }, 'VERIFY_EMAIL_URL'],
  [{ RESET_PASSWORD_URL: '/reset' }, 'RESET_PASSWORD_URL'],
  [{ RESET_PASSWORD_URL: 'ftp://example.com/reset' }, 'RESET_PASSWORD_URL'],
  [{ VERIFY_EMAIL_TTL: 'two days' }, 'VERIFY_EMAIL_TTL'],
  [{ VERIFY_EMAIL_TTL: '59s' }, 'VERIFY_EMAIL_TTL'],
  [{ PASSWORD_RESET_TTL: '1.5h' }, 'PASSWORD_RESET_TTL'],
  [{ PASSWORD_RESET_TTL: '0' }, 'PASSWORD_RESET_TTL'],
  [{ REQUIRE_EMAIL_VERIFICATION: 'maybe' }, 'REQUIRE_EMAIL_VERIFICATION'],
  [{ REGISTRATION_ENUMERATION_SAFE: 'sometimes' }, 'REGISTRATION_ENUMERATION_SAFE'],
  [{ MAIL_RETRY_DELAYS: '1s,soon' }, 'MAIL_RETRY_DELAYS'],
  [{ MAIL_RETRY_DELAYS: '1s,,10s' }, 'MAIL_RETRY_DELAYS'],
  [{ MAIL_RETRY_DELAYS: '-1s' }, 'MAIL_RETRY_DELAYS'],
  [{ TRUST_PROXY: '0' }, 'TRUST_PROXY'],
  [{ TRUST_PROXY: 'yes' }, 'TRUST_PROXY'],
  [{ TRUST_PROXY: 'proxy.internal' }, 'TRUST_PROXY'],
  [{ TRUST_PROXY: 'cafe' }, 'TRUST_PROXY'],
  [{ TRUST_PROXY: '300.1.1.1' }, 'TRUST_PROXY'],
  [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY'],
  [{ TRUST_PROXY: '10.0.0.0/8/8' }, 'TRUST_PROXY'],
  [{ TRUST_PROXY: 'fd00::/129' }, 'TRUST_PROXY'],
  [{ TRUST_PROXY: '127.0.0.1, 10.0.0.0/x' }, 'TRUST_PROXY'],
  [{ TRUST_PROXY: ',' }, 'TRUST_PROXY'],
  [{ TRUST_PROXY: '-1' }, 'TRUST_PROXY']
]

const RATE_LIMIT_VARIABLES = [
  'RATE_LIMIT_LOGIN_ACCOUNT',
  'RATE_LIMIT_LOGIN_IP',
  'RATE_LIMIT_REGISTER_IP',
  'RATE_LIMIT_EMAIL_IP',
  'RATE_LIMIT_EMAIL_ADDRESS',
  'RATE_LIMIT_TOKEN_IP',
  'RATE_LIMIT_REFRESH_IP',
  'RATE_LIMIT_OAUTH_IP',
  'RATE_LIMIT_LOGIN_REQUESTS_IP',
  'RATE_LIMIT_VERIFY_IP'
]
for (const variable of RATE_LIMIT_VARIABLES) {
  for (const value of ['5', 'five/5m', '5/', '/5m', '5/forever', '5/0', '5/1.5m', '-1/5m', '5/5m/1', '5 per 5m', 'on']) {
    bad.push([{ [variable]: value }, variable])
  }
}

for (const [env, variable] of bad) {
  t.test(`${JSON.stringify(env)} is refused naming ${variable}`, async t => {
    try {
      loadConfig(env)
      t.fail('should have thrown')
    } catch (err) {
      t.ok(err instanceof ConfigError, 'a ConfigError')
      t.equal((err as ConfigError).variable, variable)
      t.match((err as Error).message, variable)
    }
  })
}

t.test('JWT_PRIVATE_KEY_FILE is read through the given reader', async t => {
  const config = loadConfig({ JWT_PRIVATE_KEY_FILE: '/keys/signing.pem' }, { readFile: path => path === '/keys/signing.pem' ? PEM : '' })
  t.equal(config.jwtPrivateKey, PEM)
  t.throws(() => loadConfig({ JWT_PRIVATE_KEY_FILE: '/missing' }, { readFile: () => { throw new Error('ENOENT') } }), /JWT_PRIVATE_KEY_FILE cannot be read/)
})

t.test('an inline PEM may use \\n escapes (one-line environment files)', async t => {
  const config = loadConfig({ JWT_PRIVATE_KEY: PEM.trim().replace(/\n/g, '\\n') })
  t.equal(config.jwtPrivateKey, PEM.trim())
})

t.test('a configured key that is not a key, or does not fit the algorithm, names its variable and never quotes it', async t => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  const garbage = '{"kty":"RSA","d":"c2VjcmV0LXNpZ25pbmcta2V5"}'
  for (const [env, pattern] of [
    [{ JWT_PRIVATE_KEY: 'not-a-key-but-a-secret-value' }, /^Invalid configuration: JWT_PRIVATE_KEY is not a private key: give a PEM/],
    [{ JWT_PRIVATE_KEY: garbage }, /^Invalid configuration: JWT_PRIVATE_KEY is not a private key/],
    [{ JWT_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\\nabc\\n-----END PRIVATE KEY-----' }, /^Invalid configuration: JWT_PRIVATE_KEY is not a private key/],
    [{ JWT_PRIVATE_KEY: ec }, /^Invalid configuration: JWT_PRIVATE_KEY holds an ec key, which does not fit JWT_ALGORITHM=RS256/],
    [{ JWT_PRIVATE_KEY: PEM, JWT_ALGORITHM: 'EdDSA' }, /JWT_PRIVATE_KEY holds an rsa key, which does not fit JWT_ALGORITHM=EdDSA/]
  ] as const) {
    let message = ''
    try {
      loadConfig(env)
    } catch (err) {
      message = (err as Error).message
    }
    t.match(message, pattern)
    t.notMatch(message, /secret|c2VjcmV0|abc/, 'the key is not quoted')
  }
  t.throws(() => loadConfig({ JWT_PRIVATE_KEY_FILE: '/keys/signing.pem' }, { readFile: () => 'garbage' }), /^Invalid configuration: JWT_PRIVATE_KEY_FILE is not a private key/)
})

t.test('durations', async t => {
  t.equal(parseDuration('30'), 30)
  t.equal(parseDuration('30s'), 30)
  t.equal(parseDuration('5m'), 300)
  t.equal(parseDuration('12h'), 43200)
  t.equal(parseDuration('7d'), 604800)
  t.equal(parseDuration('2w'), 1209600)
  t.equal(parseDuration('5M'), 300)
  t.equal(parseDuration('1.5h'), undefined)
  t.equal(parseDuration('soon'), undefined)
  t.equal(parseDuration(''), undefined)
})

t.test('defaults of the mail, proxy and abuse-limit variables', async t => {
  const config = loadConfig({})
  t.equal(config.smtpUrl, undefined, 'no SMTP: mails go to the log')
  t.notOk('smtpUrl' in config)
  t.equal(config.mailFrom, 'Portcullis <no-reply@localhost>')
  t.equal(config.verifyEmailUrl, 'http://localhost:3000/api/auth/verify-email')
  t.equal(config.resetPasswordUrl, 'http://localhost:3000/api/auth/password/reset/confirm')
  t.equal(config.verifyEmailTtl, 48 * 3600)
  t.equal(config.passwordResetTtl, 3600)
  t.equal(config.requireEmailVerification, false)
  t.equal(config.mfaRequiredFor, 'none')
  t.equal(config.registrationEnumerationSafe, false)
  t.same(config.mailRetryDelays, [2000, 10_000, 60_000])
  t.equal(config.trustProxy, false, 'X-Forwarded-For is not believed unless configured')
  t.same(config.rateLimits, {
    loginFailuresPerAccount: { max: 5, windowSeconds: 300 },
    loginFailuresPerIp: { max: 30, windowSeconds: 60 },
    mfaFailuresPerAccount: { max: 5, windowSeconds: 300 },
    registerPerIp: { max: 20, windowSeconds: 60 },
    emailPerIp: { max: 20, windowSeconds: 60 },
    emailPerAddress: { max: 5, windowSeconds: 60 },
    tokenPerIp: { max: 30, windowSeconds: 60 },
    refreshPerIp: { max: 300, windowSeconds: 60 },
    oauthPerIp: { max: 600, windowSeconds: 60 },
    loginPerIp: { max: 60, windowSeconds: 60 },
    verifyPerIp: { max: 600, windowSeconds: 60 }
  })
  t.equal(config.rateLimitIpv6Prefix, 64, 'an IPv6 client counts by its /64')
})

t.test('the mail defaults follow PUBLIC_URL', async t => {
  const config = loadConfig({ PUBLIC_URL: 'https://auth.example.com/' })
  t.equal(config.mailFrom, 'Portcullis <no-reply@auth.example.com>')
  t.equal(config.verifyEmailUrl, 'https://auth.example.com/api/auth/verify-email')
  t.equal(config.resetPasswordUrl, 'https://auth.example.com/api/auth/password/reset/confirm')
})

t.test('WebAuthn: the relying party follows PUBLIC_URL unless WEBAUTHN_* say otherwise', async t => {
  t.same(loadConfig({ PUBLIC_URL: 'https://auth.example.com/' }).webauthn,
    { rpId: 'auth.example.com', rpName: 'Portcullis', origins: ['https://auth.example.com'] })
  t.same(loadConfig({ PUBLIC_URL: 'https://auth.example.com', WEBAUTHN_RP_ID: 'Example.com', WEBAUTHN_ORIGINS: 'https://app.example.com, https://example.com:8443/', WEBAUTHN_RP_NAME: 'Example' }).webauthn,
    { rpId: 'example.com', rpName: 'Example', origins: ['https://app.example.com', 'https://example.com:8443'] })
  t.throws(() => loadConfig({ WEBAUTHN_RP_ID: 'example.com', PUBLIC_URL: 'https://auth.example.org' }), /^Invalid configuration: WEBAUTHN_ORIGINS must be origins on WEBAUTHN_RP_ID \(example\.com\)/, 'one line naming the variable')
})

t.test('the mail variables are read', async t => {
  const config = loadConfig({
    SMTP_URL: 'smtps://user:secret@mail.example.com:465',
    MAIL_FROM: 'Example Accounts <accounts@example.com>',
    VERIFY_EMAIL_URL: 'https://app.example.com/verify/',
    RESET_PASSWORD_URL: 'https://app.example.com/reset',
    VERIFY_EMAIL_TTL: '1d',
    PASSWORD_RESET_TTL: '30m',
    REQUIRE_EMAIL_VERIFICATION: 'true',
    REGISTRATION_ENUMERATION_SAFE: 'yes',
    MAIL_RETRY_DELAYS: '1s, 30s ,5m'
  })
  t.equal(config.smtpUrl, 'smtps://user:secret@mail.example.com:465')
  t.equal(config.mailFrom, 'Example Accounts <accounts@example.com>')
  t.equal(config.verifyEmailUrl, 'https://app.example.com/verify', 'trailing slash dropped')
  t.equal(config.resetPasswordUrl, 'https://app.example.com/reset')
  t.equal(config.verifyEmailTtl, 86400)
  t.equal(config.passwordResetTtl, 1800)
  t.equal(config.requireEmailVerification, true)
  t.equal(config.registrationEnumerationSafe, true)
  t.same(config.mailRetryDelays, [1000, 30_000, 300_000])
})

t.test('SMTP_URL takes smtp:// too, and MAIL_FROM a bare address', async t => {
  const config = loadConfig({ SMTP_URL: 'smtp://localhost:2525', MAIL_FROM: 'no-reply@example.com' })
  t.equal(config.smtpUrl, 'smtp://localhost:2525')
  t.equal(config.mailFrom, 'no-reply@example.com')
})

t.test('MAIL_RETRY_DELAYS "none" turns retries off', async t => {
  t.same(loadConfig({ MAIL_RETRY_DELAYS: 'none' }).mailRetryDelays, [])
  t.same(loadConfig({ MAIL_RETRY_DELAYS: 'NONE' }).mailRetryDelays, [])
  t.same(loadConfig({ MAIL_RETRY_DELAYS: '0' }).mailRetryDelays, [0])
  t.same(loadConfig({ MAIL_RETRY_DELAYS: '' }).mailRetryDelays, [2000, 10_000, 60_000], 'empty means the default')
})

t.test('the email verification and reset TTLs are at least a minute', async t => {
  t.equal(loadConfig({ VERIFY_EMAIL_TTL: '60' }).verifyEmailTtl, 60)
  t.equal(loadConfig({ PASSWORD_RESET_TTL: '1m' }).passwordResetTtl, 60)
})

t.test('RATE_LIMIT_* variables are <count>/<duration> or off', async t => {
  const config = loadConfig({
    RATE_LIMIT_LOGIN_ACCOUNT: '10/15m',
    RATE_LIMIT_LOGIN_IP: '100 / 1h',
    RATE_LIMIT_MFA_ACCOUNT: '4/10m',
    RATE_LIMIT_REGISTER_IP: '3/30s',
    RATE_LIMIT_EMAIL_IP: '7/90',
    RATE_LIMIT_EMAIL_ADDRESS: '1/1d',
    RATE_LIMIT_TOKEN_IP: 'off',
    RATE_LIMIT_REFRESH_IP: '0',
    RATE_LIMIT_OAUTH_IP: '50/10s',
    RATE_LIMIT_LOGIN_REQUESTS_IP: '9/1m',
    RATE_LIMIT_VERIFY_IP: '8/2m'
  })
  t.same(config.rateLimits, {
    loginFailuresPerAccount: { max: 10, windowSeconds: 900 },
    loginFailuresPerIp: { max: 100, windowSeconds: 3600 },
    mfaFailuresPerAccount: { max: 4, windowSeconds: 600 },
    registerPerIp: { max: 3, windowSeconds: 30 },
    emailPerIp: { max: 7, windowSeconds: 90 },
    emailPerAddress: { max: 1, windowSeconds: 86400 },
    tokenPerIp: { max: 0, windowSeconds: 60 },
    refreshPerIp: { max: 0, windowSeconds: 60 },
    oauthPerIp: { max: 50, windowSeconds: 10 },
    loginPerIp: { max: 9, windowSeconds: 60 },
    verifyPerIp: { max: 8, windowSeconds: 120 }
  })
})

t.test('RATE_LIMIT_IPV6_PREFIX is a prefix length from 1 to 128', async t => {
  t.equal(loadConfig({ RATE_LIMIT_IPV6_PREFIX: '56' }).rateLimitIpv6Prefix, 56)
  t.equal(loadConfig({ RATE_LIMIT_IPV6_PREFIX: '128' }).rateLimitIpv6Prefix, 128, '128: every address counts apart')
  for (const value of ['0', '129', '/64', 'abc']) {
    t.throws(() => loadConfig({ RATE_LIMIT_IPV6_PREFIX: value }), /RATE_LIMIT_IPV6_PREFIX/, value)
  }
})

t.test('"off" is case-insensitive and a count of 0 is off too', async t => {
  for (const value of ['off', 'OFF', ' Off ', '0', '0/5m']) {
    t.equal(loadConfig({ RATE_LIMIT_LOGIN_ACCOUNT: value }).rateLimits.loginFailuresPerAccount.max, 0, value)
  }
  t.same(loadConfig({ RATE_LIMIT_LOGIN_ACCOUNT: '' }).rateLimits.loginFailuresPerAccount, { max: 5, windowSeconds: 300 }, 'empty means the default')
})

t.test('TRUST_PROXY is true, false, a hop count, or addresses and CIDRs', async t => {
  t.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true)
  t.equal(loadConfig({ TRUST_PROXY: 'TRUE' }).trustProxy, true)
  t.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false)
  t.equal(loadConfig({ TRUST_PROXY: '' }).trustProxy, false)
  t.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, 1)
  t.equal(loadConfig({ TRUST_PROXY: '3' }).trustProxy, 3)
  t.same(loadConfig({ TRUST_PROXY: '127.0.0.1' }).trustProxy, ['127.0.0.1'])
  t.same(loadConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,,192.168.0.0/16' }).trustProxy, ['127.0.0.1', '10.0.0.0/8', '192.168.0.0/16'])
  t.same(loadConfig({ TRUST_PROXY: '::1,fd00::/8,10.0.0.0/32' }).trustProxy, ['::1', 'fd00::/8', '10.0.0.0/32'])
})

t.test('social login: off by default; a provider is on with its client id and secret, endpoints defaulted', async t => {
  t.same(loadConfig({}).social, { redirectAllowlist: [] })
  const config = loadConfig({
    GOOGLE_CLIENT_ID: 'g-id',
    GOOGLE_CLIENT_SECRET: 'g-secret',
    GITHUB_CLIENT_ID: 'gh-id',
    GITHUB_CLIENT_SECRET: 'gh-secret',
    SOCIAL_REDIRECT_ALLOWLIST: 'https://app.example.com/auth, myapp://callback'
  })
  t.same(config.social, {
    google: { clientId: 'g-id', clientSecret: 'g-secret', issuer: 'https://accounts.google.com' },
    github: {
      clientId: 'gh-id',
      clientSecret: 'gh-secret',
      authorizeUrl: 'https://github.com/login/oauth/authorize',
      tokenUrl: 'https://github.com/login/oauth/access_token',
      apiUrl: 'https://api.github.com'
    },
    redirectAllowlist: ['https://app.example.com/auth', 'myapp://callback']
  })
})

t.test('social login: the endpoints are overridable (tests, GitHub Enterprise)', async t => {
  const { social } = loadConfig({
    GOOGLE_CLIENT_ID: 'g',
    GOOGLE_CLIENT_SECRET: 's',
    GOOGLE_ISSUER: 'https://idp.example.com/',
    GITHUB_CLIENT_ID: 'g',
    GITHUB_CLIENT_SECRET: 's',
    GITHUB_AUTHORIZE_URL: 'https://ghe.example.com/login/oauth/authorize',
    GITHUB_TOKEN_URL: 'https://ghe.example.com/login/oauth/access_token',
    GITHUB_API_URL: 'https://ghe.example.com/api/v3'
  })
  t.equal(social.google?.issuer, 'https://idp.example.com')
  t.match(social.github, { authorizeUrl: 'https://ghe.example.com/login/oauth/authorize', tokenUrl: 'https://ghe.example.com/login/oauth/access_token', apiUrl: 'https://ghe.example.com/api/v3' })
})

const socialBad: Array<[Record<string, string>, string]> = [
  [{ GOOGLE_CLIENT_ID: 'only-the-id' }, 'GOOGLE_CLIENT_SECRET'],
  [{ GOOGLE_CLIENT_SECRET: 'only-the-secret' }, 'GOOGLE_CLIENT_ID'],
  [{ GITHUB_CLIENT_ID: 'only-the-id' }, 'GITHUB_CLIENT_SECRET'],
  [{ GITHUB_CLIENT_SECRET: 'only-the-secret' }, 'GITHUB_CLIENT_ID'],
  [{ GOOGLE_CLIENT_ID: 'g', GOOGLE_CLIENT_SECRET: 's', GOOGLE_ISSUER: 'accounts.google.com' }, 'GOOGLE_ISSUER'],
  [{ GITHUB_CLIENT_ID: 'g', GITHUB_CLIENT_SECRET: 's', GITHUB_TOKEN_URL: 'ftp://github.com/token' }, 'GITHUB_TOKEN_URL'],
  [{ SOCIAL_REDIRECT_ALLOWLIST: 'app.example.com/auth' }, 'SOCIAL_REDIRECT_ALLOWLIST'],
  [{ SOCIAL_REDIRECT_ALLOWLIST: 'https://app.example.com/auth?next=1' }, 'SOCIAL_REDIRECT_ALLOWLIST'],
  [{ SOCIAL_REDIRECT_ALLOWLIST: 'https://user:pw@app.example.com/' }, 'SOCIAL_REDIRECT_ALLOWLIST']
]
for (const [env, variable] of socialBad) {
  t.test(`${JSON.stringify(env)} is refused naming ${variable}`, async t => {
    t.throws(() => loadConfig(env), { name: 'ConfigError', variable })
  })
}

t.test('DATABASE_URL: PostgreSQL by its scheme, SQLite by file: or :memory:; the pool and connect timeout', async t => {
  const defaults = loadConfig({})
  t.equal(defaults.databasePoolMax, 10)
  t.equal(defaults.databaseConnectTimeout, 30)
  for (const url of ['postgres://portcullis:secret@db.internal:5432/portcullis', 'postgresql://db.internal/portcullis?sslmode=require', 'POSTGRES://db/x', 'file:/var/lib/portcullis.db', ':memory:']) {
    t.equal(loadConfig({ DATABASE_URL: url }).databaseUrl, url, url)
  }
  const tuned = loadConfig({ DATABASE_URL: 'postgres://db/portcullis', DATABASE_POOL_MAX: '25', DATABASE_CONNECT_TIMEOUT: '2m' })
  t.equal(tuned.databasePoolMax, 25)
  t.equal(tuned.databaseConnectTimeout, 120)
})

t.test('a refused DATABASE_URL is named, never repeated: it may hold a password', async t => {
  for (const url of ['mysql://admin:hunter2-secret@db.internal/portcullis', 'postgres://admin:hunter2-secret@db.internal:notaport/x', 'admin:hunter2-secret']) {
    try {
      loadConfig({ DATABASE_URL: url })
      t.fail(`${url} should have been refused`)
    } catch (err) {
      t.ok(err instanceof ConfigError)
      t.equal((err as ConfigError).variable, 'DATABASE_URL')
      t.match((err as Error).message, /DATABASE_URL must be/)
      t.notMatch((err as Error).message, 'hunter2', 'the password is not echoed')
    }
  }
  t.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), { message: /got a mysql: URL/ }, 'the scheme is named')
})

t.test('password rules: Django\'s defaults, PASSWORD_COMMON_CHECK, PASSWORD_MAX_SIMILARITY and PWNED_PASSWORDS_URL', async t => {
  const defaults = loadConfig({})
  t.equal(defaults.passwordCommonCheck, true)
  t.equal(defaults.passwordMaxSimilarity, 0.7)
  t.equal(defaults.pwnedPasswordsUrl, undefined, 'no breached-password check unless configured')
  const set = loadConfig({ PASSWORD_COMMON_CHECK: 'false', PASSWORD_MAX_SIMILARITY: '0.5', PWNED_PASSWORDS_URL: 'https://api.pwnedpasswords.com/' })
  t.equal(set.passwordCommonCheck, false)
  t.equal(set.passwordMaxSimilarity, 0.5)
  t.equal(set.pwnedPasswordsUrl, 'https://api.pwnedpasswords.com')
  t.equal(loadConfig({ PASSWORD_MAX_SIMILARITY: 'off' }).passwordMaxSimilarity, 0)
  t.equal(loadConfig({ PASSWORD_MAX_SIMILARITY: '1' }).passwordMaxSimilarity, 1)
  for (const value of ['0.05', '1.5', 'abc', '-0.7', '.']) {
    t.throws(() => loadConfig({ PASSWORD_MAX_SIMILARITY: value }), /PASSWORD_MAX_SIMILARITY/, value)
  }
  t.throws(() => loadConfig({ PWNED_PASSWORDS_URL: 'ftp://example.com' }), /PWNED_PASSWORDS_URL/)
})
