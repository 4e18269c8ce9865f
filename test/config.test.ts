import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'
import { parseDuration } from '../src/durations.js'

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
  [{ DATABASE_URL: 'postgres://x' }, 'DATABASE_URL'],
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
  [{ BCRYPT_COST: '3' }, 'BCRYPT_COST'],
  [{ BCRYPT_COST: '10.5' }, 'BCRYPT_COST'],
  [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  [{ HASH_WORKERS: '0' }, 'HASH_WORKERS']
]

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
  const config = loadConfig({ JWT_PRIVATE_KEY_FILE: '/keys/signing.pem' }, { readFile: path => `PEM from ${path}` })
  t.equal(config.jwtPrivateKey, 'PEM from /keys/signing.pem')
  t.throws(() => loadConfig({ JWT_PRIVATE_KEY_FILE: '/missing' }, { readFile: () => { throw new Error('ENOENT') } }), /JWT_PRIVATE_KEY_FILE cannot be read/)
})

t.test('an inline PEM may use \\n escapes (one-line environment files)', async t => {
  const config = loadConfig({ JWT_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\\nabc\\n-----END PRIVATE KEY-----' })
  t.equal(config.jwtPrivateKey, '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----')
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
