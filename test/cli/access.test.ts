// grant, revoke, groups, ban, unban and set-password as child processes, seen through the API of an app
// running on the same database.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { OPERATOR } from '../../src/admin/access.js'
import { createGroup } from '../../src/admin/groups.js'
import { setUserGroups, setUserPermissions } from '../../src/admin/users.js'
import { bearer, build } from '../helper.js'
import { PASSWORD, portcullis, tempDatabase, type TempDatabase } from './run.js'

async function withUser (t: Test): Promise<{ db: TempDatabase, app: FastifyInstance }> {
  const db = await tempDatabase(t)
  const created = await portcullis(['create-user', '--no-input', '--email', 'ada@example.com', '--username', 'ada', '--verified'], { ...db.env, PORTCULLIS_PASSWORD: PASSWORD })
  t.equal(created.code, 0, created.stderr)
  const app = await build(t, {}, { env: { DATABASE_URL: db.url } })
  return { db, app }
}

async function login (app: FastifyInstance, password = PASSWORD) {
  return app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'ada@example.com', password } })
}

async function me (app: FastifyInstance, access: string) {
  return app.inject({ url: '/api/auth/me', headers: bearer(access) })
}

t.test('grant, revoke, add-to-group and remove-from-group change what the API says the user may do', async t => {
  const { db, app } = await withUser(t)
  const { access } = (await login(app)).json()

  const [granted, grouped] = await Promise.all([
    portcullis(['grant', 'ada@example.com', 'users.view', 'users.ban'], db.env),
    portcullis(['add-to-group', 'ada', 'moderators', '--create'], db.env)
  ])
  t.equal(granted.code, 0, granted.stderr)
  t.equal(granted.stdout, 'Granted users.view, users.ban to ada <ada@example.com>.\n')
  t.equal(grouped.code, 0, grouped.stderr)
  t.equal(grouped.stdout, 'Created group moderators.\nAdded ada <ada@example.com> to group moderators.\n')
  t.match((await me(app, access)).json(), { permissions: ['users.ban', 'users.view'], groups: ['moderators'] }, 'the live session sees the changes at once')
  const relogin = (await login(app)).json()
  const claims = JSON.parse(Buffer.from(relogin.access.split('.')[1], 'base64url').toString())
  t.match(claims, { permissions: ['users.ban', 'users.view'], groups: ['moderators'] }, 'and the next access token carries them')

  // Commands that change nothing, side by side.
  const [again, member, notBanned] = await Promise.all([
    portcullis(['grant', 'ADA', 'users.view'], db.env),
    portcullis(['add-to-group', 'ada', 'moderators'], db.env),
    portcullis(['unban', 'ada'], db.env)
  ])
  t.equal(again.stdout, 'ada <ada@example.com> already had users.view.\n')
  t.equal(member.stdout, 'ada <ada@example.com> is already in group moderators.\n')
  t.equal(notBanned.stdout, 'ada <ada@example.com> was not banned.\n')
  for (const result of [again, member, notBanned]) t.equal(result.code, 0, result.stderr)

  const revoked = await portcullis(['revoke', 'ada', 'users.view', 'users.delete'], db.env)
  t.equal(revoked.code, 0, revoked.stderr)
  t.equal(revoked.stdout, 'Revoked users.view from ada <ada@example.com>.\nada <ada@example.com> did not have users.delete of its own.\n')
  t.same((await me(app, access)).json().permissions, ['users.ban'])

  // A group with a permission, set up through the domain as the admin API would do it.
  const auditors = await createGroup(app.auth, OPERATOR, { name: 'auditors', permissions: ['audit.view'] })
  t.ok(auditors.id)
  await setUserGroups(app.auth, OPERATOR, relogin.user.id, ['moderators', 'auditors'])
  await setUserPermissions(app.auth, OPERATOR, relogin.user.id, ['users.ban', 'audit.view'])
  // revoke writes the user's permissions, remove-from-group its groups: they may run side by side.
  const [still, removed] = await Promise.all([
    portcullis(['revoke', 'ada', 'audit.view'], db.env),
    portcullis(['remove-from-group', 'ada', 'moderators'], db.env)
  ])
  t.equal(still.stdout, 'Revoked audit.view from ada <ada@example.com>.\nada <ada@example.com> still has audit.view through group auditors.\n')
  t.equal(removed.code, 0, removed.stderr)
  t.equal(removed.stdout, 'Removed ada <ada@example.com> from group moderators.\n')
  t.match((await me(app, access)).json(), { permissions: ['audit.view', 'users.ban'], groups: ['auditors'] })

  const notMember = await portcullis(['remove-from-group', 'ada', 'moderators'], db.env)
  t.equal(notMember.code, 0)
  t.equal(notMember.stdout, 'ada <ada@example.com> is not in group moderators.\n')
})

t.test('ban ends the sessions and refuses login with account_banned; unban lets the user back in', async t => {
  const { db, app } = await withUser(t)
  const first = (await login(app)).json()

  const banned = await portcullis(['ban', 'ada', '--reason', 'spam', '--until', '2999-01-01'], db.env)
  t.equal(banned.code, 0, banned.stderr)
  t.equal(banned.stdout, 'Banned ada <ada@example.com> until 2999-01-01T00:00:00.000Z (reason: spam); every session of the user is revoked.\n')
  const refused = await login(app)
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().code, 'account_banned')
  t.equal((await me(app, first.access)).json().code, 'user_inactive', 'the access token of the banned user is refused')
  const refresh = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: first.refresh } })
  t.equal(refresh.statusCode, 401)
  t.same(await db.query('SELECT revoked_reason FROM sessions'), [{ revoked_reason: 'banned' }])
  t.match(await db.query('SELECT is_banned, ban_reason, banned_until FROM users'), [{ is_banned: 1, ban_reason: 'spam', banned_until: Date.parse('2999-01-01T00:00:00Z') }])

  const unbanned = await portcullis(['unban', 'ada@example.com'], db.env)
  t.equal(unbanned.code, 0, unbanned.stderr)
  t.equal(unbanned.stdout, 'Unbanned ada <ada@example.com>.\n')
  t.equal((await login(app)).statusCode, 200)
  t.match(await db.query('SELECT is_banned, ban_reason, banned_until FROM users'), [{ is_banned: 0, ban_reason: null, banned_until: null }])

  const forever = await portcullis(['ban', 'ada'], db.env)
  t.equal(forever.stdout, 'Banned ada <ada@example.com> with no end; every session of the user is revoked.\n')
  t.equal((await login(app)).json().code, 'account_banned')
})

t.test('set-password --no-input sets the password and ends every session', async t => {
  const { db, app } = await withUser(t)
  const first = (await login(app)).json()
  const newPassword = 'a brand new passphrase'
  const [set, weak, noTty] = await Promise.all([
    portcullis(['set-password', 'ada', '--no-input'], { ...db.env, PORTCULLIS_PASSWORD: newPassword }),
    portcullis(['set-password', 'ada', '--no-input'], { ...db.env, PORTCULLIS_PASSWORD: 'ADA@example.com' }),
    portcullis(['set-password', 'ada'], db.env)
  ])
  t.equal(set.code, 0, set.stderr)
  t.equal(set.stdout, 'Password of ada <ada@example.com> changed; 1 session revoked.\n')
  t.equal(weak.code, 1)
  t.match(weak.stderr, 'portcullis set-password: The password is not acceptable: must not be the same as the email address.')
  t.equal(noTty.code, 1)
  t.match(noTty.stderr, 'Cannot prompt for the password: stdin is not a terminal')
  t.equal((await login(app)).statusCode, 401, 'the old password is refused')
  t.equal((await login(app, newPassword)).statusCode, 200)
  const refresh = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh: first.refresh } })
  t.equal(refresh.statusCode, 401, 'the session from before is revoked')
  t.same(await db.query('SELECT revoked_reason FROM sessions WHERE revoked_at IS NOT NULL'), [{ revoked_reason: 'password_set' }])
})
