import t from 'tap'
import { bcryptCost, createHashWorkers, createPasswordHasher } from '../../src/passwords/hasher.js'
import { passwordProblems } from '../../src/passwords/policy.js'
import { build, registerUser, newUser, PASSWORD, testDatabaseUrl } from '../helper.js'

t.test('hashes verify, wrong passwords and unusable hashes do not', async t => {
  const hasher = createPasswordHasher({ cost: 4, threads: 1 })
  t.teardown(() => hasher.close())
  const hash = await hasher.hash(PASSWORD)
  t.match(hash, /^\$2[aby]\$04\$/)
  t.equal(bcryptCost(hash), 4)
  t.equal(await hasher.verify(PASSWORD, hash), true)
  t.equal(await hasher.verify('wrong password', hash), false)
  t.equal(await hasher.verify(PASSWORD, null), false, 'no usable password (social-only account)')
  t.equal(await hasher.verify(PASSWORD, undefined), false, 'unknown account')
  t.equal(await hasher.verify(PASSWORD, '!unusable'), false)
})

t.test('bytes past 72 never match, though bcrypt would ignore them', async t => {
  const hasher = createPasswordHasher({ cost: 4, threads: 1 })
  t.teardown(() => hasher.close())
  const seventyTwo = 'a'.repeat(72)
  const hash = await hasher.hash(seventyTwo)
  t.equal(await hasher.verify(seventyTwo, hash), true)
  t.equal(await hasher.verify(seventyTwo + 'anything', hash), false)
})

t.test('hashers on a shared pool (the tests\' apps): closing one waits for its own hashes and leaves the pool to the others', async t => {
  const workers = createHashWorkers({ threads: 1 })
  t.teardown(() => workers.close())
  const first = createPasswordHasher({ cost: 4, threads: 1, workers })
  const second = createPasswordHasher({ cost: 5, threads: 1, workers })
  const pending = first.hash(PASSWORD)
  let settled = false
  pending.then(() => { settled = true }, () => { settled = true })
  await first.close()
  t.equal(settled, true, 'close() returned after the hash in flight')
  t.equal(bcryptCost(await pending), 4)
  const hash = await second.hash(PASSWORD)
  t.equal(bcryptCost(hash), 5, 'each hasher keeps its own cost')
  t.equal(await second.verify(PASSWORD, hash), true, 'the pool still runs after the first hasher closed')
  await second.close()
  t.equal(await createPasswordHasher({ cost: 4, threads: 1, workers }).verify(PASSWORD, hash), true, 'and after both closed')
})

t.test('needsRehash compares the cost of the hash with the configured cost', async t => {
  const hasher = createPasswordHasher({ cost: 5, threads: 1 })
  t.teardown(() => hasher.close())
  t.equal(hasher.needsRehash('$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234'), true)
  t.equal(hasher.needsRehash('$2b$05$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234'), false)
  t.equal(hasher.needsRehash('$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234'), false)
})

t.test('a full queue answers 503 server_busy rather than growing without bound', async t => {
  const hasher = createPasswordHasher({ cost: 8, threads: 1, maxQueue: 1 })
  t.teardown(() => hasher.close())
  const results = await Promise.allSettled(Array.from({ length: 6 }, () => hasher.hash(PASSWORD)))
  const refused = results.filter(r => r.status === 'rejected')
  t.ok(refused.length > 0, 'some hashes were refused')
  for (const r of refused) t.match((r as PromiseRejectedResult).reason, { statusCode: 503, code: 'server_busy' })
})

t.test('a dummy hash refused by a full queue is not kept: the next unknown account gets its compare again', async t => {
  const hasher = createPasswordHasher({ cost: 8, threads: 1, maxQueue: 1 })
  t.teardown(() => hasher.close())
  // The queue is full once these are submitted, and nothing drains it before the next line runs.
  const flood = Array.from({ length: 6 }, () => hasher.hash(PASSWORD))
  const first = hasher.verify(PASSWORD, undefined)
  const settled = await Promise.allSettled([...flood, first])
  t.match((settled.at(-1) as PromiseRejectedResult).reason, { statusCode: 503, code: 'server_busy' }, 'the first dummy hash met the full queue')
  t.equal(await hasher.verify(PASSWORD, undefined), false, 'an unknown account is a plain mismatch again, not 503 for ever')
  t.equal(await hasher.verify(PASSWORD, null), false, 'a social-only account too')
})

t.test('a hash of a lower cost is upgraded at the next successful login', async t => {
  const env = { DATABASE_URL: await testDatabaseUrl(t) }
  const cheap = await build(t, { bcryptCost: 4 }, { env })
  const user = await registerUser(cheap, newUser())
  t.equal(bcryptCost((await cheap.repositories.users.findById(user.id))!.passwordHash!), 4)
  await cheap.close()

  const stronger = await build(t, { bcryptCost: 5 }, { env })
  const wrong = await stronger.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: 'wrong password' } })
  t.equal(wrong.statusCode, 401)
  t.equal(bcryptCost((await stronger.repositories.users.findById(user.id))!.passwordHash!), 4, 'a failed login changes nothing')
  const ok = await stronger.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
  t.equal(ok.statusCode, 200)
  const upgraded = (await stronger.repositories.users.findById(user.id))!.passwordHash!
  t.equal(bcryptCost(upgraded), 5)
  const again = await stronger.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
  t.equal(again.statusCode, 200, 'the upgraded hash still verifies')
})

t.test('password policy', async t => {
  t.same(passwordProblems('correct horse'), [])
  t.match(passwordProblems('short'), [/at least 8/])
  t.match(passwordProblems('12345678901'), [/entirely numeric/])
  t.match(passwordProblems('Ada@Example.com', { email: 'ada@example.com' }), [/email/])
  t.match(passwordProblems('AdaLovelace', { username: 'adalovelace' }), [/username/])
  t.same(passwordProblems('€'.repeat(24)), [], '72 bytes is allowed')
  t.match(passwordProblems('€'.repeat(25)), [/72 bytes/])
  t.match(passwordProblems('ab'), [/at least 8/])
})
