// `keys rotate` goes by the key settings the server recorded (algorithm, schedule, key source, key
// encryption), not by the CLI's own environment, and refuses to change the algorithm unless forced.
import t from 'tap'
import { decodeProtectedHeader, type JWK } from 'jose'
import type { FastifyInstance } from 'fastify'
import { build, loginUser } from '../helper.js'
import { portcullis, tempDatabase } from './run.js'

const kidOf = (token: string) => decodeProtectedHeader(token).kid
const KEK = 'k'.repeat(20) + '-0123456789abcdef'

interface KeyRow { kid: string, algorithm: string, private_key: string, created_at: number, retired_at: number | null }

async function publishedKids (app: FastifyInstance): Promise<string[]> {
  return (await app.inject({ url: '/.well-known/jwks.json' })).json().keys.map((k: JWK) => k.kid)
}

t.test('the CLI\'s own JWT_ALGORITHM and schedule are ignored: the key is the server\'s algorithm, on the server\'s schedule', async t => {
  const db = await tempDatabase(t)
  const server = await build(t, {}, { env: { DATABASE_URL: db.url, JWT_PRIVATE_KEY: '' } })
  const signer = kidOf((await loginUser(server)).access)
  const rotated = await portcullis(['keys', 'rotate'], { ...db.env, JWT_ALGORITHM: 'ES256', JWKS_MAX_AGE: '1h', JWT_KEY_RELOAD_INTERVAL: '30s' })
  t.equal(rotated.code, 0, rotated.stderr)
  t.match(rotated.stdout, /^New RS256 key (\S+): published now, signing from /)
  t.match(rotated.stdout, /Running servers pick it up within 10 s/)
  const rows = await db.query<KeyRow>('SELECT kid, algorithm, private_key, created_at, retired_at FROM signing_keys ORDER BY created_at')
  t.same(rows.map(row => row.algorithm), ['RS256', 'RS256'])
  const [old, fresh] = rows
  t.equal(old.kid, signer)
  t.equal(Number(old.retired_at) - Number(fresh.created_at), (300 + 10) * 1000, 'the server\'s JWKS_MAX_AGE (5m) plus JWT_KEY_RELOAD_INTERVAL (10s)')
})

t.test('another algorithm than the live signer\'s is refused unless --force; forced, the key waits for the server\'s change', async t => {
  const db = await tempDatabase(t)
  const server = await build(t, {}, { env: { DATABASE_URL: db.url, JWT_PRIVATE_KEY: '' } })
  const signer = kidOf((await loginUser(server)).access) as string
  const keysBefore = await db.query<KeyRow>('SELECT kid FROM signing_keys')

  const refused = await portcullis(['keys', 'rotate', '--algorithm', 'ES256'], db.env)
  t.equal(refused.code, 1)
  t.match(refused.stderr, `The live signing key ${signer} is RS256, the server's JWT_ALGORITHM`)
  t.match(refused.stderr, /run again with --algorithm ES256 --force\. Nothing was changed\./)
  t.same(await db.query<KeyRow>('SELECT kid FROM signing_keys'), keysBefore, 'nothing stored')
  for (const [args, message] of [
    [['keys', 'rotate', '--force'], /--force only goes with --algorithm/],
    [['keys', 'rotate', '--algorithm', 'HS256', '--force'], /--algorithm must be one of RS256, ES256, EdDSA; got "HS256"/]
  ] as const) {
    const res = await portcullis([...args], db.env)
    t.equal(res.code, 1, args.join(' '))
    t.match(res.stderr, message)
  }

  const forced = await portcullis(['keys', 'rotate', '--algorithm', 'ES256', '--force'], db.env)
  t.equal(forced.code, 0, forced.stderr)
  const prepared = /^New ES256 key (\S+): published now\. The server keeps signing with its RS256 key/.exec(forced.stdout)?.[1] as string
  t.ok(prepared, forced.stdout)
  t.equal((await db.query<KeyRow>('SELECT retired_at FROM signing_keys WHERE kid = ?', signer))[0].retired_at, null, 'the server\'s signer is not retired')
  await server.keyRing.reload()
  t.equal(kidOf((await loginUser(server)).access), signer, 'the RS256 server still signs with its key')
  t.same((await publishedKids(server)).sort(), [signer, prepared].sort(), 'and publishes the ES256 key ahead')

  // The server changes its JWT_ALGORITHM: the prepared key signs, the RS256 key retires (still published).
  const switched = await build(t, {}, { env: { DATABASE_URL: db.url, JWT_PRIVATE_KEY: '', JWT_ALGORITHM: 'ES256' } })
  t.equal(kidOf((await loginUser(switched)).access), prepared)
  t.not((await db.query<KeyRow>('SELECT retired_at FROM signing_keys WHERE kid = ?', signer))[0].retired_at, null, 'the RS256 key retired')
  t.ok((await publishedKids(switched)).includes(signer), 'and stays published for its tokens')
})

t.test('the server\'s configured key: rotation refused even when the CLI\'s environment has no key', async t => {
  const db = await tempDatabase(t)
  await build(t, {}, { env: { DATABASE_URL: db.url } })
  const refused = await portcullis(['keys', 'rotate'], db.env)
  t.equal(refused.code, 1)
  t.match(refused.stderr, /The server's signing key comes from JWT_PRIVATE_KEY/)
  const listed = await portcullis(['keys', 'list', '--json'], db.env)
  t.equal(listed.code, 0, listed.stderr)
  t.match(JSON.parse(listed.stdout), { algorithm: 'RS256', source: 'configuration', keys: [{ source: 'configuration', status: 'active' }] })
})

t.test('KEY_ENCRYPTION_KEY: the CLI must have the server\'s; its new key is stored sealed', async t => {
  const db = await tempDatabase(t)
  await build(t, {}, { env: { DATABASE_URL: db.url, JWT_PRIVATE_KEY: '', KEY_ENCRYPTION_KEY: KEK } })
  const count = async () => (await db.query<KeyRow>('SELECT kid FROM signing_keys')).length

  const missing = await portcullis(['keys', 'rotate'], db.env)
  t.equal(missing.code, 78)
  t.match(missing.stderr, /Invalid configuration: KEY_ENCRYPTION_KEY is not set, but the server encrypts the signing keys/)
  const wrong = await portcullis(['keys', 'rotate'], { ...db.env, KEY_ENCRYPTION_KEY: 'w'.repeat(40) })
  t.equal(wrong.code, 78)
  t.match(wrong.stderr, /Invalid configuration: KEY_ENCRYPTION_KEY does not decrypt stored signing key/)
  t.equal(await count(), 1, 'nothing stored')

  const rotated = await portcullis(['keys', 'rotate'], { ...db.env, KEY_ENCRYPTION_KEY: KEK })
  t.equal(rotated.code, 0, rotated.stderr)
  const rows = await db.query<KeyRow>('SELECT private_key FROM signing_keys')
  t.equal(rows.length, 2)
  for (const row of rows) t.match(row.private_key, /^enc:v1:/)
})
