// Logging in with an imported Django password: every format verifies, is re-hashed to bcrypt in the login's transaction, and wrong passwords fail alike.
import t, { type Test } from 'tap'
import { portcullis, tempDatabase } from '../cli/run.js'
import { build } from '../helper.js'
import { djangoDatabase, fixture, HASH_FORMATS } from './fixture.js'

async function imported (t: Test) {
  const db = await tempDatabase(t)
  const result = await portcullis(['import-django', '--from', djangoDatabase(t)], db.env)
  t.equal(result.code, 0, result.stderr)
  const app = await build(t, {}, { env: { DATABASE_URL: db.url, HASH_WORKERS: '2' } })
  return { db, app }
}

t.test('each Django hash format logs in, and the password is re-hashed to bcrypt', async t => {
  const { db, app } = await imported(t)
  for (const name of HASH_FORMATS) {
    const user = fixture.default.users[name]
    const wrong = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: 'not the password' } })
    t.equal(wrong.statusCode, 401, `${name}: a wrong password is refused`)
    t.equal(wrong.json().code, 'invalid_credentials')
    const [unchanged] = await db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE email = ?', user.email)
    t.equal(unchanged.password_hash, user.hash, `${name}: a failed login leaves the Django hash`)

    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: user.password } })
    t.equal(login.statusCode, 200, `${name}: ${login.body}`)
    const [row] = await db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE email = ?', user.email)
    t.match(row.password_hash, /^\$2[aby]\$04\$/, `${name}: re-hashed to bcrypt at the configured cost`)
    t.not(row.password_hash, user.hash)
    const rows = await db.query<{ n: number }>('SELECT count(*) AS n FROM users WHERE password_hash = ?', user.hash)
    t.equal(Number(rows[0].n), 0, `${name}: the Django hash is gone`)

    const again = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: user.password } })
    t.equal(again.statusCode, 200, `${name}: the bcrypt hash opens the account`)
  }
})

t.test('an unusable Django password opens nothing; an inactive Django user cannot log in', async t => {
  const { app } = await imported(t)
  const unusable = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'unusable@example.com', password: fixture.password } })
  t.equal(unusable.statusCode, 401)
  const inactive = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'inactive@example.com', password: fixture.password } })
  t.equal(inactive.statusCode, 403)
  const staff = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'staff.member@example.com', password: fixture.password } })
  t.equal(staff.statusCode, 200, 'an email Django stored in mixed case logs in lower-cased')
  t.same(staff.json().user.groups, ['editors', 'readers'])
})
