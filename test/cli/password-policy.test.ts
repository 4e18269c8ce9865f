// The operator CLI applies the same password rules as the API (Django's common list and similarity).
import t from 'tap'
import { PASSWORD, portcullis, tempDatabase } from './run.js'

t.test('create-user and set-password refuse a common password and one too similar to the user', async t => {
  const db = await tempDatabase(t)
  const create = (password: string) => portcullis(['create-user', '--no-input', '--email', 'grace.hopper@example.com', '--username', 'amazing'], { ...db.env, PORTCULLIS_PASSWORD: password })
  const common = await create('password1234')
  t.equal(common.code, 1)
  t.match(common.stderr, 'The password is not acceptable: must not be a commonly used password.')
  const created = await create(PASSWORD)
  t.equal(created.code, 0, created.stderr)

  const similar = await portcullis(['set-password', 'amazing', '--no-input'], { ...db.env, PORTCULLIS_PASSWORD: 'GraceHopper1906' })
  t.equal(similar.code, 1)
  t.match(similar.stderr, 'The password is not acceptable: must not be too similar to the email address.')
})
