// `keys rotate` and `keys list` as child processes, on the database of a running app.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { decodeProtectedHeader, type JWK } from 'jose'
import { bearer, build, loginUser, testPrivateKey } from '../helper.js'
import { portcullis, tempDatabase } from './run.js'
import { waitUntil } from '../wait-until.js'

const kidOf = (token: string) => decodeProtectedHeader(token).kid
const KID = /key (\S+): published now/

async function publishedKids (app: FastifyInstance): Promise<string[]> {
  return (await app.inject({ url: '/.well-known/jwks.json' })).json().keys.map((k: JWK) => k.kid)
}

t.test('keys --help, and usage errors exit 1 with a pointer to the help', async t => {
  const help = await portcullis(['keys', '--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /portcullis keys rotate \[--immediate\]/)
  t.match(help.stdout, /portcullis keys list \[--json\]/)
  t.match((await portcullis(['help', 'keys'])).stdout, /JWKS_MAX_AGE/)
  t.match((await portcullis(['--help'])).stdout, /keys\s+Rotate or list the token signing keys/)
  for (const [args, message] of [
    [['keys'], /Missing <rotate\|list>/],
    [['keys', 'frobnicate'], /Unknown subcommand "frobnicate"/],
    [['keys', 'rotate', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['keys', 'list', 'extra'], /Unexpected argument: extra/]
  ] as const) {
    const res = await portcullis([...args])
    t.equal(res.code, 1, args.join(' '))
    t.match(res.stderr, message)
    t.match(res.stderr, /portcullis keys --help/)
  }
})

t.test('a rotation from the CLI is picked up by a running server without a restart', async t => {
  const db = await tempDatabase(t)
  const env = { DATABASE_URL: db.url, JWT_PRIVATE_KEY: '' }
  const running = await build(t, {}, { env })
  const before = await loginUser(running)
  const oldKid = kidOf(before.access)

  const rotated = await portcullis(['keys', 'rotate', '--immediate'], db.env)
  t.equal(rotated.code, 0, rotated.stderr)
  t.match(rotated.stdout, /signing from .* \(now\)\. 1 key \(.+\) stops signing then/)
  const newKid = KID.exec(rotated.stdout)?.[1]
  t.ok(newKid)

  // Another process, started after the rotation, signs with the new key at once.
  const started = await build(t, {}, { env })
  const user = await loginUser(started)
  t.equal(kidOf(user.access), newKid)
  // The running server has not reloaded yet: the unknown kid makes it look.
  const me = await running.inject({ url: '/api/auth/me', headers: bearer(user.access) })
  t.equal(me.statusCode, 200, 'a token of the new key is accepted')
  t.equal(kidOf((await loginUser(running)).access), newKid, 'and the running server now signs with the new key')
  t.same(await publishedKids(running), [newKid, oldKid])
  t.equal((await running.inject({ url: '/api/auth/me', headers: bearer(before.access) })).statusCode, 200, 'old tokens stay valid')
})

t.test('a scheduled rotation reaches a running server on its reload interval', async t => {
  const db = await tempDatabase(t)
  const running = await build(t, {}, { env: { DATABASE_URL: db.url, JWT_PRIVATE_KEY: '', JWT_KEY_RELOAD_INTERVAL: '1s' } })
  const [oldKid] = await publishedKids(running)
  const rotated = await portcullis(['keys', 'rotate'], db.env)
  t.equal(rotated.code, 0, rotated.stderr)
  const newKid = KID.exec(rotated.stdout)?.[1]
  // The server's JWT_KEY_RELOAD_INTERVAL (1s), recorded at its start, not the CLI's default (10s).
  t.match(rotated.stdout, /Running servers pick it up within 1 s/)
  // Picked up on the next reload (JWT_KEY_RELOAD_INTERVAL=1s), however long a busy machine makes that.
  await waitUntil(async () => (await publishedKids(running)).includes(newKid!), 10_000, 'the running server to publish the new key', t)
  t.same(await publishedKids(running), [oldKid, newKid], 'published next to the signer, which still signs')
  t.equal(kidOf((await loginUser(running)).access), oldKid)
})

t.test('keys list shows each key, its status and schedule; --json for scripts', async t => {
  const db = await tempDatabase(t)
  const app = await build(t, {}, { env: { DATABASE_URL: db.url, JWT_PRIVATE_KEY: '' } })
  const [oldKid] = await publishedKids(app)
  const newKid = KID.exec((await portcullis(['keys', 'rotate'], db.env)).stdout)?.[1] as string

  const listed = await portcullis(['keys', 'list'], db.env)
  t.equal(listed.code, 0, listed.stderr)
  const lines = listed.stdout.trim().split('\n')
  t.match(lines[0], /JWT_ALGORITHM RS256; the signing key comes from the database; rotation: on demand only/)
  t.match(lines[1], /^KID\s+ALGORITHM\s+STATUS\s+PUBLISHED\s+CREATED\s+SIGNS FROM\s+RETIRED\s+PUBLISHED UNTIL$/)
  t.match(lines[2], new RegExp(`^${newKid}\\s+RS256\\s+next\\s+yes\\s`))
  t.match(lines[3], new RegExp(`^${oldKid}\\s+RS256\\s+active\\s+yes\\s`))
  t.notMatch(listed.stdout, /PRIVATE KEY/)

  const json = await portcullis(['keys', 'list', '--json'], db.env)
  t.equal(json.code, 0)
  const parsed = JSON.parse(json.stdout)
  t.match(parsed, { algorithm: 'RS256', source: 'database' })
  t.same(parsed.keys.map((k: { kid: string, status: string }) => [k.kid, k.status]), [[newKid, 'next'], [oldKid, 'active']])
  t.equal(parsed.keys[1].retired_at, parsed.keys[0].signs_from, 'the old key retires when the new one starts signing')
})

t.test('keys rotate is refused, exit 1, when the key comes from the configuration', async t => {
  const db = await tempDatabase(t)
  const configured = await portcullis(['keys', 'rotate'], { ...db.env, JWT_PRIVATE_KEY: testPrivateKey() })
  t.equal(configured.code, 1)
  t.match(configured.stderr, /portcullis keys: The signing key comes from JWT_PRIVATE_KEY .*rotate it in the configuration/)
  t.equal(configured.stdout, '')

  const hs256 = { ...db.env, JWT_ALGORITHM: 'HS256', JWT_SECRET: 'a shared secret of at least thirty-two bytes' }
  const secret = await portcullis(['keys', 'rotate'], hs256)
  t.equal(secret.code, 1)
  t.match(secret.stderr, /HS256/)
  const listed = await portcullis(['keys', 'list'], hs256)
  t.equal(listed.code, 0)
  t.match(listed.stdout, /HS256: tokens are signed with the shared JWT_SECRET; no key is stored or published/)

  const list = await portcullis(['keys', 'list'], { ...db.env, JWT_PRIVATE_KEY: testPrivateKey() })
  t.equal(list.code, 0, list.stderr)
  t.match(list.stdout, /comes from the configuration; rotation: by changing the configuration/)
  t.match(list.stdout, /active \(configured\)/)
})

t.test('bad key settings are a configuration error, exit 78', async t => {
  const db = await tempDatabase(t)
  for (const [name, value] of [['JWKS_MAX_AGE', 'soon'], ['JWKS_MAX_AGE', '2d'], ['JWT_KEY_ROTATION_INTERVAL', '5m'], ['JWT_KEY_RELOAD_INTERVAL', '2m']]) {
    const res = await portcullis(['keys', 'list'], { ...db.env, [name]: value })
    t.equal(res.code, 78, `${name}=${value}`)
    t.match(res.stderr, name)
  }
})
