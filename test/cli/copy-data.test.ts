// `copy-data` as a child process: a SQLite database built through the app and the CLI moves to
// PostgreSQL, and an app started there finds everyone still logged in.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { bearer, build, loginUser, newUser } from '../helper.js'
import { clientToken } from '../oauth-helper.js'
import { mailLink, startSmtpServer } from '../smtp.js'
import { APP_REDIRECT, githubGrant, githubUser, nextLocation, startGithubProvider } from '../social/providers.js'
import { emptyDatabase } from '../db/postgres/fresh-database.js'
import { portcullis } from './run.js'

interface Teardown { teardown (fn: () => unknown): void }

/** A SQLite file that does not exist yet, in a directory removed when the test ends. */
function sqliteFile (t: Teardown): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-copy-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return `file:${join(dir, 'portcullis.db')}`
}

async function kids (app: FastifyInstance): Promise<string[]> {
  return (await app.inject({ url: '/.well-known/jwks.json' })).json().keys.map((key: { kid: string }) => key.kid)
}

function claimsOf (access: string): { sub: string, groups: string[], permissions: string[] } {
  return JSON.parse(Buffer.from(access.split('.')[1], 'base64url').toString())
}

function socialLogin (app: FastifyInstance, grant: object) {
  return app.inject({ method: 'POST', url: '/api/auth/social/github', payload: grant as Record<string, unknown> })
}

async function countUsers (url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return Number((await client.query('SELECT count(*) AS n FROM users')).rows[0].n)
  } finally {
    await client.end()
  }
}

t.test('copy-data moves everything to an empty PostgreSQL database: nobody is logged out; a second copy is refused', async t => {
  const smtp = await startSmtpServer(t)
  const github = await startGithubProvider(t)
  const sqliteUrl = sqliteFile(t)
  const postgresUrl = await emptyDatabase(t)
  // Keys generated and stored in the database, as a deployment without JWT_PRIVATE_KEY has them.
  const env = { ...github.env, JWT_PRIVATE_KEY: '' }
  const cliEnv = { DATABASE_URL: sqliteUrl, BCRYPT_COST: '4' }

  // Before: a SQLite deployment with a bit of everything.
  const before = await build(t, { databaseUrl: sqliteUrl, smtpUrl: smtp.url }, { env })
  const ada = await loginUser(before, newUser({ email: 'ada@example.com', username: 'ada' }))
  const verifyMail = await smtp.waitForMail(mail => mail.to.includes('ada@example.com'))
  const refreshed = await before.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: ada.refresh } })
  t.equal(refreshed.statusCode, 200)
  const { refresh, access } = refreshed.json()
  await before.repositories.authorization.createPermission({ codename: 'posts.publish', description: 'Can publish posts', createdAt: new Date() })
  for (const args of [['grant', 'ada', 'posts.publish', 'users.view'], ['add-to-group', 'ada', 'editors', '--create']]) {
    const res = await portcullis(args, cliEnv)
    t.equal(res.code, 0, res.stderr)
  }
  const created = await portcullis(['create-client', '--name', 'billing', '--scope', 'orders.read', '--json'], cliEnv)
  t.equal(created.code, 0, created.stderr)
  const client = JSON.parse(created.stdout)
  github.user = githubUser('grace')
  const social = await socialLogin(before, await githubGrant(github))
  t.equal(social.statusCode, 200, social.body)
  const grace = github.user
  // A browser half-way through a social login: sent to the provider, its callback still to come.
  const started = await before.inject({ url: `/api/auth/social/github/authorize?redirect_to=${encodeURIComponent(APP_REDIRECT)}` })
  t.equal(started.statusCode, 302)
  const callback = new URL(await nextLocation(started.headers.location as string))
  // The browser holds the cookie that binds the flow to it (login CSRF defence).
  const binding = started.cookies.find(cookie => cookie.name.endsWith('portcullis_social'))
  t.ok(binding, 'the flow is bound to the browser')
  const kidsBefore = await kids(before)

  const copied = await portcullis(['copy-data', '--to', postgresUrl, '--batch-size', '2'], cliEnv)
  t.equal(copied.code, 0, copied.stderr)
  t.match(copied.stdout, /^Copied .*portcullis\.db to \S+:\d+\/portcullis_test_\w+:\n/)
  t.match(copied.stdout, /\n {2}users +2 rows\n/)
  // The seven admin permissions, webhooks.manage and the one the test created.
  t.match(copied.stdout, /\n {2}permissions +9 rows\n/)
  t.match(copied.stdout, /\n {2}signing_keys +1 row\n/)
  t.match(copied.stdout, /Every table's row count matches/)
  t.notMatch(copied.stdout, /DIFFERS/)

  // After: an app on PostgreSQL.
  const after = await build(t, { databaseUrl: postgresUrl, smtpUrl: smtp.url }, { env })
  t.same(await kids(after), kidsBefore, 'the same signing key')
  t.equal((await after.inject({ url: '/api/auth/me', headers: bearer(access) })).statusCode, 200, 'an access token from before is valid')
  const renewed = await after.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh } })
  t.equal(renewed.statusCode, 200, 'the refresh token from before refreshes')
  t.equal(claimsOf(renewed.json().access).sub, ada.id)

  const login = await after.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'ada@example.com', password: ada.password } })
  t.equal(login.statusCode, 200, 'the password logs in')
  t.same(claimsOf(login.json().access).groups, ['editors'])
  t.same(claimsOf(login.json().access).permissions, ['posts.publish', 'users.view'])

  t.type(await clientToken(after, client), 'string', 'the client gets a token')

  const verified = await after.inject({ method: 'POST', url: '/api/auth/verify-email', payload: { token: mailLink(verifyMail).token } })
  t.equal(verified.statusCode, 200, 'the verification link mailed before works')

  github.user = grace
  const again = await socialLogin(after, await githubGrant(github))
  t.equal(again.statusCode, 200)
  t.equal(again.json().created, false, 'the GitHub identity is still linked')
  t.equal(again.json().user.id, social.json().user.id)
  const finished = await after.inject({ url: callback.pathname + callback.search, cookies: { [binding!.name]: binding!.value } })
  t.equal(finished.statusCode, 302)
  t.equal(finished.headers.location, APP_REDIRECT, 'the social login started before finishes after')
  t.ok(finished.cookies.some(cookie => cookie.name === 'refresh_token'))

  const users = await countUsers(postgresUrl)
  const second = await portcullis(['copy-data', '--to', postgresUrl], cliEnv)
  t.equal(second.code, 1)
  t.match(second.stderr, /^portcullis copy-data: \S+:\d+\/portcullis_test_\w+ is not empty \(.*users.*\); copy-data only fills an empty database\. Nothing was written\.\n$/)
  t.equal(second.stdout, '')
  t.equal(await countUsers(postgresUrl), users, 'nothing written')
})
