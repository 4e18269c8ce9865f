// The CLI's refusals as child processes: unknown users, permissions and groups, bad dates, missing
// arguments and unknown flags are exit 1 with a message, and change nothing.
import t from 'tap'
import { PASSWORD, portcullis, tempDatabase } from './run.js'

t.test('unknown users, permissions and groups, bad dates, missing arguments and unknown flags are exit 1', async t => {
  const db = await tempDatabase(t)
  const created = await portcullis(['create-user', '--no-input', '--email', 'ada@example.com', '--username', 'ada'], { ...db.env, PORTCULLIS_PASSWORD: PASSWORD })
  t.equal(created.code, 0, created.stderr)
  const cases: Array<[string[], string | RegExp]> = [
    [['grant', 'nobody@example.com', 'users.view'], 'portcullis grant: No user with the email or username "nobody@example.com".'],
    [['revoke', 'nobody', 'users.view'], 'portcullis revoke: No user with the email or username "nobody".'],
    [['add-to-group', 'nobody', 'staff', '--create'], 'portcullis add-to-group: No user with the email or username "nobody".'],
    [['remove-from-group', 'nobody', 'staff'], 'No user with the email or username "nobody".'],
    [['ban', 'nobody'], 'portcullis ban: No user with the email or username "nobody".'],
    [['unban', 'nobody'], 'portcullis unban: No user with the email or username "nobody".'],
    [['set-password', 'nobody', '--no-input'], 'portcullis set-password: No user with the email or username "nobody".'],
    [['grant', 'ada', 'posts.add'], /^Database: .+\nportcullis grant: No permission "posts.add"\. The permissions are: audit\.view, clients\.manage, .*users\.view, webhooks\.manage\.\n$/],
    [['revoke', 'ada', 'users.view', 'posts.add'], 'No permission "posts.add".'],
    [['add-to-group', 'ada', 'editors'], 'portcullis add-to-group: No group named "editors". There are no groups yet. Pass --create to create it.'],
    [['remove-from-group', 'ada', 'editors'], 'No group named "editors".'],
    [['ban', 'ada', '--until', 'next tuesday'], /--until must be an ISO 8601 date or time, such as 2030-01-31 or 2030-01-31T18:00:00Z; got "next tuesday"\.\nRun "portcullis ban --help" for usage\./],
    [['ban', 'ada', '--until', '2001-02-03T04:05:06Z'], '--until must be in the future (leave it out for a ban without end); 2001-02-03T04:05:06.000Z has passed.'],
    [['ban', 'ada', '--until', '2030-02-30'], '--until must be an ISO 8601 date'],
    [['ban', 'ada', '--until'], "Option '--until <value>' argument missing"],
    [['grant', 'ada'], /Missing <permission>\.\nRun "portcullis grant --help" for usage\./],
    [['grant'], 'Missing <user> <permission>.'],
    [['ban'], 'Missing <user>.'],
    [['add-to-group', 'ada'], 'Missing <group>.'],
    [['unban', 'ada', 'bob'], 'Unexpected argument: bob.'],
    [['list-users', '--limit', 'ten'], '--limit must be a whole number from 1 to 1000; got "ten".'],
    [['prune-tokens', '--batch-size', '0'], '--batch-size must be a whole number from 1 to 10000; got "0".'],
    [['unban', 'ada', '--force'], "portcullis unban: Unknown option '--force'."],
    [['list-users', '--json=yes'], "Option '--json' does not take an argument"]
  ]
  const results = await Promise.all(cases.map(([args]) => portcullis(args, db.env)))
  cases.forEach(([args, message], i) => {
    t.equal(results[i].code, 1, args.join(' '))
    t.match(results[i].stderr, message, args.join(' '))
    t.equal(results[i].stdout, '', args.join(' '))
  })
  t.match(await db.query('SELECT is_banned FROM users'), [{ is_banned: 0 }], 'nothing was changed')
  t.same(await db.query('SELECT * FROM groups'), [], 'no group was created for an unknown user')
})

t.test('an email that is also another user\'s username is ambiguous, and the message says how to pick', async t => {
  const db = await tempDatabase(t)
  const env = { ...db.env, PORTCULLIS_PASSWORD: PASSWORD }
  await Promise.all([
    portcullis(['create-user', '--no-input', '--email', 'ada@example.com', '--username', 'ada'], env),
    portcullis(['create-user', '--no-input', '--email', 'mallory@example.com', '--username', 'ada@example.com'], env)
  ])
  const [ambiguous, byUsername, byOtherEmail] = await Promise.all([
    portcullis(['grant', 'ada@example.com', 'users.view'], db.env),
    portcullis(['grant', 'ada', 'users.view'], db.env),
    portcullis(['grant', 'mallory@example.com', 'users.ban'], db.env)
  ])
  t.equal(ambiguous.code, 1)
  t.match(ambiguous.stderr, '"ada@example.com" is ambiguous: it is the email of ada and the username of mallory@example.com. Name the user by ada or by mallory@example.com instead.')
  t.match(byUsername.stdout, 'to ada <ada@example.com>')
  t.match(byOtherEmail.stdout, 'to ada@example.com <mallory@example.com>')
})
