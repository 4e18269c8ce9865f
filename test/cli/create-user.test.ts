// create-superuser and create-user as child processes; the accounts they make, seen through the API.
import t from 'tap'
import { bearer, build } from '../helper.js'
import { PASSWORD, portcullis, tempDatabase } from './run.js'

t.test('create-superuser --no-input: the superuser can log in at once and has every permission', async t => {
  const db = await tempDatabase(t)
  const created = await portcullis(['create-superuser', '--no-input', '--email', ' Root@Example.com ', '--username', 'root'], { ...db.env, PORTCULLIS_PASSWORD: PASSWORD })
  t.equal(created.code, 0, created.stderr)
  t.match(created.stdout, /^Created superuser root <root@example\.com> with id [0-9a-f-]{36}\.\n$/)
  t.notMatch(created.stdout + created.stderr, PASSWORD, 'the password is never printed')

  // Email verification required: a superuser from the CLI is verified, as Django's can log in at once.
  const app = await build(t, {}, { env: { DATABASE_URL: db.url, REQUIRE_EMAIL_VERIFICATION: 'true' } })
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'root@example.com', password: PASSWORD } })
  t.equal(login.statusCode, 200, login.body)
  const me = await app.inject({ url: '/api/auth/me', headers: bearer(login.json().access) })
  const all = (await db.query<{ codename: string }>('SELECT codename FROM permissions ORDER BY codename')).map(row => row.codename)
  t.ok(all.length >= 7, 'the built-in permissions')
  t.match(me.json(), { email: 'root@example.com', username: 'root', email_verified: true, is_active: true, is_staff: true, is_superuser: true, permissions: all })
  const byUsername = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'ROOT', password: PASSWORD } })
  t.equal(byUsername.statusCode, 200)
  const hash = (await db.query<{ password_hash: string }>('SELECT password_hash FROM users'))[0].password_hash
  t.match(hash, /^\$2[aby]\$04\$/, 'hashed with bcrypt at BCRYPT_COST')
})

t.test('create-user: staff and verified only when asked; the account works through the API', async t => {
  const db = await tempDatabase(t)
  const env = { ...db.env, PORTCULLIS_PASSWORD: PASSWORD }
  const [plain, staff] = await Promise.all([
    portcullis(['create-user', '--noinput', '--email', 'ada@example.com', '--username', 'ada'], env),
    portcullis(['create-user', '--no-input', '--email', 'bob@example.com', '--username', 'bob', '--staff', '--verified'], env)
  ])
  t.equal(plain.code, 0, plain.stderr)
  t.match(plain.stdout, /^Created user ada <ada@example\.com>/)
  t.equal(staff.code, 0, staff.stderr)
  t.match(staff.stdout, /^Created staff user bob <bob@example\.com>/)

  const app = await build(t, {}, { env: { DATABASE_URL: db.url } })
  const ada = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'ada', password: PASSWORD } })
  t.equal(ada.statusCode, 200, ada.body)
  t.match(ada.json().user, { email_verified: false, is_staff: false, is_superuser: false, permissions: [] })
  const bob = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'bob@example.com', password: PASSWORD } })
  t.match(bob.json().user, { email_verified: true, is_staff: true, is_superuser: false, permissions: [] })
  t.same(await db.query('SELECT id FROM one_time_tokens'), [], 'no verification mail was prepared')
})

t.test('create-superuser and create-user refuse duplicates, weak passwords and bad input with exit 1', async t => {
  const db = await tempDatabase(t)
  const env = { ...db.env, PORTCULLIS_PASSWORD: PASSWORD }
  const first = await portcullis(['create-superuser', '--no-input', '--email', 'root@example.com', '--username', 'root'], env)
  t.equal(first.code, 0, first.stderr)

  const noInput = (email: string, username: string, extra: Record<string, string> = {}, command = 'create-user') =>
    portcullis([command, '--no-input', '--email', email, '--username', username], { ...env, ...extra })
  const [email, username, weak, sameAsUsername, tooLong, noPassword, badEmail, badUsername, noEmail, noTty, unknownFlag, staffSuperuser] = await Promise.all([
    noInput('ROOT@example.com', 'other', {}, 'create-superuser'),
    noInput('other@example.com', 'Root'),
    noInput('weak@example.com', 'weak', { PORTCULLIS_PASSWORD: '1234567' }),
    noInput('carol@example.com', 'carol-the-admin', { PORTCULLIS_PASSWORD: 'Carol-The-Admin' }),
    noInput('dave@example.com', 'dave', { PORTCULLIS_PASSWORD: 'é'.repeat(37) }),
    noInput('erin@example.com', 'erin', { PORTCULLIS_PASSWORD: '' }),
    noInput('not-an-email', 'frank'),
    noInput('gina@example.com', 'gina smith'),
    portcullis(['create-superuser', '--no-input', '--username', 'hal'], env),
    portcullis(['create-superuser', '--email', 'ivy@example.com', '--username', 'ivy'], env),
    portcullis(['create-user', '--no-input', '--email', 'jo@example.com', '--username', 'jo', '--superuser'], env),
    portcullis(['create-superuser', '--no-input', '--email', 'kim@example.com', '--username', 'kim', '--staff'], env)
  ])
  t.equal(email.code, 1)
  t.match(email.stderr, 'portcullis create-superuser: An account with the email root@example.com already exists.')
  t.equal(username.code, 1)
  t.match(username.stderr, 'The username "Root" is already taken.')
  t.equal(weak.code, 1)
  t.match(weak.stderr, 'The password is not acceptable: must be at least 8 characters long; must not be entirely numeric; must not be a commonly used password.')
  t.equal(sameAsUsername.code, 1)
  t.match(sameAsUsername.stderr, 'must not be the same as the username')
  t.equal(tooLong.code, 1)
  t.match(tooLong.stderr, 'must be at most 72 bytes in UTF-8')
  t.equal(noPassword.code, 1)
  t.match(noPassword.stderr, '--no-input needs the password in the PORTCULLIS_PASSWORD environment variable')
  t.equal(badEmail.code, 1)
  t.match(badEmail.stderr, '"not-an-email" is not a valid email address.')
  t.equal(badUsername.code, 1)
  t.match(badUsername.stderr, '"gina smith" is not a valid username')
  t.equal(noEmail.code, 1)
  t.match(noEmail.stderr, /--email is required with --no-input\.\nRun "portcullis create-superuser --help" for usage\./)
  t.equal(noTty.code, 1, 'without --no-input, stdin must be a terminal')
  t.match(noTty.stderr, 'Cannot prompt for the password: stdin is not a terminal. Run it in a terminal, or pass --no-input and set PORTCULLIS_PASSWORD')
  t.equal(unknownFlag.code, 1)
  t.match(unknownFlag.stderr, "Unknown option '--superuser'")
  t.equal(staffSuperuser.code, 1, '--staff is create-user\'s')
  t.match(staffSuperuser.stderr, "Unknown option '--staff'")
  for (const result of [email, username, weak, sameAsUsername, tooLong, noPassword, badEmail, badUsername, noEmail, noTty, unknownFlag, staffSuperuser]) {
    t.equal(result.stdout, '')
    t.notMatch(result.stderr, PASSWORD)
  }
  t.same(await db.query('SELECT username FROM users'), [{ username: 'root' }], 'nothing else was created')
})
