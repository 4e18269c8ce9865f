import t from 'tap'
import { createPasswordHasher } from '../../src/passwords/hasher.js'
import { fixture, HASH_FORMATS } from './fixture.js'

t.test('every Django hash format verifies as Django made it, and a wrong password does not', async t => {
  const hasher = createPasswordHasher({ cost: 4, threads: 2 })
  t.teardown(() => hasher.close())
  for (const name of HASH_FORMATS) {
    const { hash, password } = fixture.default.users[name]
    t.equal(await hasher.verify(password!, hash), true, `${name} verifies`)
    t.equal(await hasher.verify(password! + 'x', hash), false, `${name} refuses a wrong password`)
    t.equal(hasher.needsRehash(hash), true, `${name} is re-hashed to bcrypt`)
  }
})

t.test('unusable, malformed and out-of-bounds Django hashes never match', async t => {
  const hasher = createPasswordHasher({ cost: 4, threads: 1 })
  t.teardown(() => hasher.close())
  const { password, hash } = fixture.default.users.pbkdf2
  const refused = [
    fixture.default.users.unusable.hash,
    hash.replace('pbkdf2_sha256$260000', 'pbkdf2_sha256$999999999'),
    hash.replace('pbkdf2_sha256', 'pbkdf2_md5'),
    hash.slice(0, -8),
    'scrypt$1048576$salt$64$1$AAAA',
    'argon2$argon2id$v=19$m=99999999,t=2,p=8$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA',
    'sha1$salt$0123456789abcdef0123456789abcdef01234567',
    'md5$salt$0123456789abcdef0123456789abcdef'
  ]
  for (const bad of refused) t.equal(await hasher.verify(password!, bad), false, bad.slice(0, 30))
  t.equal(hasher.needsRehash(fixture.default.users.unusable.hash), false)
})
