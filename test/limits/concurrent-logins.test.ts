// The login limits under concurrency: guesses sent all at once are counted before any compare ends,
// so however many are in flight, at most the limit get an answer about the password and the rest 429.
// With each attempt store: the default one (memory on SQLite, the database on PostgreSQL), Redis,
// and the fallback that counts while Redis is down.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { bearer, build, loginUser, PASSWORD, registerUser } from '../helper.js'
import { deadRedisUrl, NEEDS_REDIS, TEST_REDIS_URL, uniqueKeyPrefix } from './redis-server.js'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const AT_ONCE = 60

function login (app: FastifyInstance, email: string, password: string, remoteAddress = '127.0.0.1') {
  return app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password }, remoteAddress })
}

/** How many answers had each status. */
function tally (answers: Array<{ statusCode: number }>): Record<number, number> {
  const counts: Record<number, number> = {}
  for (const { statusCode } of answers) counts[statusCode] = (counts[statusCode] ?? 0) + 1
  return counts
}

const STORES: Array<{ name: string, skip?: string | false, overrides: () => Promise<Record<string, unknown>> }> = [
  { name: 'the default store', overrides: async () => ({}) },
  { name: 'Redis', skip: NEEDS_REDIS.skip, overrides: async () => ({ redisUrl: TEST_REDIS_URL, redisKeyPrefix: uniqueKeyPrefix() }) },
  { name: 'the fallback while Redis is down', overrides: async () => ({ redisUrl: await deadRedisUrl() }) }
]

async function appWith (t: Test, store: typeof STORES[number], env: Record<string, string>) {
  return build(t, await store.overrides(), { env })
}

for (const store of STORES) {
  t.test(`${store.name}: ${AT_ONCE} wrong passwords at once for one account get at most the limit of 401s, the rest 429`, { skip: store.skip }, async t => {
    const app = await appWith(t, store, { RATE_LIMIT_LOGIN_ACCOUNT: '5/5m' })
    const user = await registerUser(app)
    const answers = await Promise.all(Array.from({ length: AT_ONCE }, (_, i) => login(app, user.email, `wrong password ${i}`, `10.1.0.${i}`)))
    t.same(tally(answers), { 401: 5, 429: AT_ONCE - 5 }, 'five compares, whatever the concurrency')
    for (const limited of answers.filter(a => a.statusCode === 429)) {
      t.equal(limited.json().code, 'rate_limited')
      t.match(String(limited.headers['retry-after']), /^[1-9]\d*$/)
    }
    t.equal((await login(app, user.email, PASSWORD)).statusCode, 429, 'the right password too, until the window ends')
  })

  t.test(`${store.name}: ${AT_ONCE} guesses at once from one address, over many accounts, get at most the address's limit of 401s`, { skip: store.skip }, async t => {
    const app = await appWith(t, store, { RATE_LIMIT_LOGIN_IP: '4/1m' })
    const answers = await Promise.all(Array.from({ length: AT_ONCE }, (_, i) => login(app, `nobody${i}@example.com`, 'wrong password', '10.2.0.1')))
    t.same(tally(answers), { 401: 4, 429: AT_ONCE - 4 })
    t.equal((await login(app, 'someone@example.com', 'wrong password', '10.2.0.2')).statusCode, 401, 'another address is not limited')
  })

  t.test(`${store.name}: right passwords at once use up nothing of the limits`, { skip: store.skip }, async t => {
    const app = await appWith(t, store, { RATE_LIMIT_LOGIN_ACCOUNT: '3/5m', RATE_LIMIT_LOGIN_IP: '3/1m' })
    const user = await registerUser(app)
    const answers = await Promise.all(Array.from({ length: 3 }, () => login(app, user.email, PASSWORD, '10.3.0.1')))
    t.same(tally(answers), { 200: 3 })
    const after = await Promise.all(Array.from({ length: 3 }, () => login(app, user.email, PASSWORD, '10.3.0.1')))
    t.same(tally(after), { 200: 3 }, 'successes are given back: the address still has its whole limit')
  })

  t.test(`${store.name}: wrong current passwords at once on password change count against the account's login limit`, { skip: store.skip }, async t => {
    const app = await appWith(t, store, { RATE_LIMIT_LOGIN_ACCOUNT: '5/5m' })
    const user = await loginUser(app)
    const change = (current: string, remoteAddress: string) => app.inject({
      method: 'POST',
      url: '/api/auth/password/change',
      headers: bearer(user.access),
      payload: { current_password: current, new_password: 'battery staple horse' },
      remoteAddress
    })
    const answers = await Promise.all(Array.from({ length: AT_ONCE }, (_, i) => change(`wrong password ${i}`, `10.4.0.${i}`)))
    t.same(tally(answers), { 403: 5, 429: AT_ONCE - 5 })
    const right = await change(PASSWORD, '10.4.1.1')
    t.equal(right.statusCode, 429, 'the right current password too, until the window ends')
    t.equal(right.json().code, 'rate_limited')
    t.equal((await login(app, user.email, PASSWORD, '10.4.1.2')).statusCode, 429, 'and logging in: one limit per account')
  })
}
