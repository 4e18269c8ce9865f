// Signing private keys at rest: sealed under KEY_ENCRYPTION_KEY (AES-256-GCM), readable again by a
// restarted server with the same key, refused clearly with another; plain rows of an existing
// database keep working and are sealed once a key is set.
import { once } from 'node:events'
import t from 'tap'
import { decodeProtectedHeader } from 'jose'
import { keyCipher } from '../../src/keys/encryption.js'
import { bearer, build, loginUser, rawDatabase, testDatabaseUrl } from '../helper.js'
import { failedStart, startServer } from '../portcullis-process.js'

const KEK = 'k'.repeat(20) + '-0123456789abcdef'
const OTHER_KEK = 'o'.repeat(20) + '-0123456789abcdef'
const kidOf = (token: string) => decodeProtectedHeader(token).kid

async function storedKeys (t: Parameters<typeof rawDatabase>[0], url: string) {
  return rawDatabase(t, url).query<{ kid: string, private_key: string }>('SELECT kid, private_key FROM signing_keys')
}

t.test('the cipher: sealed text holds no PEM, opens with the same key and kid only', async t => {
  const pem = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+secret\n-----END PRIVATE KEY-----\n'
  const cipher = keyCipher(KEK)
  const sealed = cipher.seal('kid-1', pem)
  t.match(sealed, /^enc:v1:[\w-]+\.[\w-]+\.[\w-]+$/)
  t.notMatch(sealed, /PRIVATE KEY|secret/)
  t.not(cipher.seal('kid-1', pem), sealed, 'a fresh nonce each time')
  t.equal(cipher.open('kid-1', sealed), pem)
  t.equal(cipher.open('kid-1', pem), pem, 'a plain PEM (stored before the key was set) still reads')
  t.equal(keyCipher(undefined).seal('kid-1', pem), pem, 'without a key, stored as it is')
  t.throws(() => cipher.open('kid-2', sealed), { name: 'ConfigError', message: /KEY_ENCRYPTION_KEY does not decrypt stored signing key kid-2/ }, 'bound to its kid')
  t.throws(() => keyCipher(OTHER_KEK).open('kid-1', sealed), { message: /KEY_ENCRYPTION_KEY does not decrypt/ })
  t.throws(() => keyCipher(undefined).open('kid-1', sealed), { message: /KEY_ENCRYPTION_KEY is not set, but stored signing key kid-1 is encrypted/ })
  const tampered = sealed.slice(0, -3) + (sealed.endsWith('AAA') ? 'BBB' : 'AAA')
  t.throws(() => cipher.open('kid-1', tampered), { message: /does not decrypt/ })
  t.throws(() => cipher.open('kid-1', 'enc:v9:abc'), { message: /format this version does not know \(enc:v9:\)/ })
})

t.test('KEY_ENCRYPTION_KEY shorter than 32 bytes is a configuration error', async t => {
  const { loadConfig } = await import('../../src/config.js')
  t.throws(() => loadConfig({ KEY_ENCRYPTION_KEY: 'short' }), { name: 'ConfigError', message: /KEY_ENCRYPTION_KEY must be a random secret of at least 32 bytes/ })
  t.equal(loadConfig({ KEY_ENCRYPTION_KEY: KEK }).keyEncryptionKey, KEK)
})

t.test('stored sealed; a server restarted with the same key signs with it and accepts its tokens', async t => {
  const url = await testDatabaseUrl(t)
  const env = { DATABASE_URL: url, JWT_PRIVATE_KEY: '', KEY_ENCRYPTION_KEY: KEK }
  const first = await build(t, {}, { env })
  const before = await loginUser(first)
  const rows = await storedKeys(t, url)
  t.equal(rows.length, 1)
  t.match(rows[0].private_key, /^enc:v1:/)
  t.notMatch(rows[0].private_key, /BEGIN|PRIVATE KEY/, 'the column does not hold the PEM')
  await first.close()

  const restarted = await build(t, {}, { env })
  t.equal((await restarted.inject({ url: '/api/auth/me', headers: bearer(before.access) })).statusCode, 200, 'an earlier token verifies')
  const after = await loginUser(restarted)
  t.equal(kidOf(after.access), kidOf(before.access), 'the same stored key signs')
  t.equal((await restarted.inject({ url: '/api/auth/me', headers: bearer(after.access) })).statusCode, 200)
})

t.test('an existing database with plain keys: they keep working, and are sealed once KEY_ENCRYPTION_KEY is set', async t => {
  const url = await testDatabaseUrl(t)
  const plain = await build(t, {}, { env: { DATABASE_URL: url, JWT_PRIVATE_KEY: '' } })
  const before = await loginUser(plain)
  t.match((await storedKeys(t, url))[0].private_key, /^-----BEGIN PRIVATE KEY-----/, 'no key set: stored plain')
  await plain.close()

  const sealed = await build(t, {}, { env: { DATABASE_URL: url, JWT_PRIVATE_KEY: '', KEY_ENCRYPTION_KEY: KEK } })
  t.match((await storedKeys(t, url))[0].private_key, /^enc:v1:/, 'sealed at start-up')
  t.equal((await sealed.inject({ url: '/api/auth/me', headers: bearer(before.access) })).statusCode, 200)
  t.equal(kidOf((await loginUser(sealed)).access), kidOf(before.access), 'the same key, now sealed, signs')
})

t.test('a wrong or missing KEY_ENCRYPTION_KEY for sealed keys stops the start with an error naming it', async t => {
  const url = await testDatabaseUrl(t)
  const first = await build(t, {}, { env: { DATABASE_URL: url, JWT_PRIVATE_KEY: '', KEY_ENCRYPTION_KEY: KEK } })
  await first.close()
  const stored = await storedKeys(t, url)

  await t.rejects(build(t, {}, { env: { DATABASE_URL: url, JWT_PRIVATE_KEY: '', KEY_ENCRYPTION_KEY: OTHER_KEK } }),
    { name: 'ConfigError', message: /^Invalid configuration: KEY_ENCRYPTION_KEY does not decrypt stored signing key/ })
  await t.rejects(build(t, {}, { env: { DATABASE_URL: url, JWT_PRIVATE_KEY: '' } }),
    { name: 'ConfigError', message: /^Invalid configuration: KEY_ENCRYPTION_KEY is not set, but stored signing key/ })
  t.same(await storedKeys(t, url), stored, 'nothing was generated or rewritten')
})

t.test('the server process: a wrong key exits 78 with one line naming the variable; without a key, one warning', async t => {
  const url = await testDatabaseUrl(t)
  const running = await startServer(t, { DATABASE_URL: url, JWT_PRIVATE_KEY: '' })
  t.equal(running.output().match(/KEY_ENCRYPTION_KEY is not set: the signing private keys are stored unencrypted/g)?.length, 1, 'one start-up warning')
  running.child.kill('SIGTERM')
  await once(running.child, 'exit')

  const sealed = await startServer(t, { DATABASE_URL: url, JWT_PRIVATE_KEY: '', KEY_ENCRYPTION_KEY: KEK })
  t.notMatch(sealed.output(), /KEY_ENCRYPTION_KEY is not set/)
  sealed.child.kill('SIGTERM')
  await once(sealed.child, 'exit')

  const { code, output } = await failedStart(t, { DATABASE_URL: url, JWT_PRIVATE_KEY: '', KEY_ENCRYPTION_KEY: OTHER_KEK })
  t.equal(code, 78)
  t.match(output, /^(Portcullis failed to start: )?Invalid configuration: KEY_ENCRYPTION_KEY does not decrypt stored signing key \S+: it is not the key the signing keys were encrypted with$/m, 'one line, wherever it falls among the output (stdout and stderr interleave in no fixed order)')
  t.notMatch(output, /\n\s+at /, 'no stack trace')
  t.notMatch(output, OTHER_KEK)
})
