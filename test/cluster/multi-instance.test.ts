// Three real server processes (`node dist/src/server.js`) on one PostgreSQL database and one Redis:
// what must hold however many instances run behind the load balancer.
// test-process: own — starts its cluster in a root-level t.before, and ends the root test when it is skipped
import t from 'tap'
import { waitUntil } from '../wait-until.js'
import { startCluster, type Cluster, type Instance } from './cluster.js'

const databaseUrl = process.env.TEST_DATABASE_URL
const redisUrl = process.env.TEST_REDIS_URL
if (databaseUrl === undefined || redisUrl === undefined) {
  t.comment('TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL are needed: several instances share both')
  t.pass('skipped without PostgreSQL and Redis')
  t.end()
} else {
  await clusterTests()
}

async function clusterTests (): Promise<void> {
  const PASSWORD = 'correct horse battery'
  let cluster!: Cluster
  let A!: Instance, B!: Instance, C!: Instance

  t.before(async () => {
    cluster = await startCluster(t, {
      instances: 3,
      env: {
        // A replay outside the grace window is reuse: with no grace every replay is.
        REFRESH_REUSE_GRACE: '0',
        JWT_KEY_RELOAD_INTERVAL: '1s',
        PRUNE_INTERVAL: '1s',
        RATE_LIMIT_LOGIN_ACCOUNT: '5/5m',
        // The tests register and log in many users from one address: only the limits under test are on.
        RATE_LIMIT_REGISTER_IP: 'off',
        RATE_LIMIT_LOGIN_IP: 'off',
        RATE_LIMIT_TOKEN_IP: '6/5m'
      }
    })
    ;[A, B, C] = cluster.instances
  })

  let counter = 0
  const newUser = () => {
    counter += 1
    return { email: `cluster${counter}@example.com`, username: `cluster${counter}`, password: PASSWORD }
  }
  async function login (instance: Instance, user = newUser()) {
    const registered = await instance.post('/api/auth/register', user)
    if (registered.status !== 201) throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`)
    const res = await instance.post('/api/auth/login', { email: user.email, password: user.password })
    if (res.status !== 200) throw new Error(`login: ${res.status} ${JSON.stringify(res.body)}`)
    return { ...user, id: registered.body.user.id as string, access: res.body.access as string, refresh: res.body.refresh as string }
  }

  t.test('three instances started at once on an empty database migrated once and made one signing key', async t => {
    const kids = await Promise.all(cluster.instances.map(async instance => {
      const res = await instance.get('/.well-known/jwks.json')
      return (res.body.keys as Array<{ kid: string }>).map(key => key.kid)
    }))
    t.same(kids[1], kids[0])
    t.same(kids[2], kids[0])
    t.equal(kids[0].length, 1, 'one key, not one per instance')
    t.equal(await cluster.count('signing_keys'), 1)
    t.equal(await cluster.count('drizzle.__drizzle_migrations'), cluster.migrationFiles, 'each migration applied once')
  })

  t.test('log in through A, refresh through B, replay the old token through C: the session is revoked everywhere', async t => {
    const user = await login(A)
    const refreshed = await B.post('/api/auth/token/refresh', { refresh: user.refresh })
    t.equal(refreshed.status, 200)
    const replay = await C.post('/api/auth/token/refresh', { refresh: user.refresh })
    t.equal(replay.status, 401)
    t.equal(replay.body.code, 'token_not_valid')
    for (const instance of [A, B, C]) {
      const successor = await instance.post('/api/auth/token/refresh', { refresh: refreshed.body.refresh })
      t.equal(successor.status, 401, `the successor is dead on ${instance.name}`)
      const me = await instance.get('/api/auth/me', refreshed.body.access)
      t.equal(me.status, 401, `the access token is refused on ${instance.name}`)
    }
  })

  t.test('one refresh token sent to three instances at once rotates once: never two live successors', async t => {
    const user = await login(A)
    const answers = await Promise.all([A, B, C].map(instance => instance.post('/api/auth/token/refresh', { refresh: user.refresh })))
    const successors = new Set(answers.filter(res => res.status === 200).map(res => res.body.refresh as string))
    t.ok(successors.size <= 1, 'at most one successor was handed out')
    t.ok(answers.every(res => res.status === 200 || (res.status === 401 && res.body.code === 'token_not_valid')), 'every other answer is reuse detection')
    const live = []
    for (const successor of successors) {
      const res = await B.post('/api/auth/token/refresh', { refresh: successor })
      if (res.status === 200) live.push(successor)
    }
    t.ok(live.length <= 1, 'no two live successors')
  })

  t.test('20 concurrent registrations of one email spread over the instances: one 201, the rest 409', async t => {
    const email = `race${Date.now()}@example.com`
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      cluster.instances[i % 3].post('/api/auth/register', { email, username: `race${i}x${counter++}`, password: PASSWORD })))
    t.equal(answers.filter(res => res.status === 201).length, 1)
    t.equal(answers.filter(res => res.status === 409 && res.body.code === 'email_taken').length, 19)
  })

  t.test('a ban through A refuses the live access token on B and C at once', async t => {
    const admin = await cluster.admin(A)
    const user = await login(B)
    t.equal((await C.get('/api/auth/me', user.access)).status, 200)
    const ban = await A.post(`/api/admin/users/${user.id}/ban`, { reason: 'spam' }, admin)
    t.equal(ban.status, 200)
    for (const instance of [B, C]) {
      const me = await instance.get('/api/auth/me', user.access)
      t.equal(me.status, 401, `refused on ${instance.name} without waiting`)
      t.equal(me.body.code, 'user_inactive')
    }
  })

  t.test("a key rotated through A's admin API shows in B's and C's JWKS within the reload interval", async t => {
    const admin = await cluster.admin(A)
    const rotated = await A.post('/api/admin/keys/rotate', undefined, admin)
    t.equal(rotated.status, 200)
    const kid = rotated.body.kid as string
    for (const instance of [B, C]) {
      await waitUntil(async () => {
        const jwks = await instance.get('/.well-known/jwks.json')
        return (jwks.body.keys as Array<{ kid: string }>).some(key => key.kid === kid)
      }, 15_000, `the new key in ${instance.name}'s JWKS`, t)
    }
    t.pass('published everywhere')
  })

  t.test('failed logins spread over A, B and C meet the limit as if they were one server', async t => {
    const user = newUser()
    t.equal((await A.post('/api/auth/register', user)).status, 201)
    const instances = [A, B, C, A, B]
    for (const instance of instances) {
      const res = await instance.post('/api/auth/login', { email: user.email, password: 'wrong password!' })
      t.equal(res.status, 401, `failure counted on ${instance.name}`)
    }
    for (const instance of [C, A, B]) {
      const res = await instance.post('/api/auth/login', { email: user.email, password: user.password })
      t.equal(res.status, 429, `limited on ${instance.name}, even with the right password`)
    }
  })

  t.test('per-address request limits are shared too', async t => {
    const answers = []
    for (let i = 0; i < 7; i++) answers.push((await cluster.instances[i % 3].get('/api/auth/verify-email?token=not-a-token')).status)
    t.same(answers, [400, 400, 400, 400, 400, 400, 429])
  })

  t.test('the revocation feed read through A never skips an event written through B and C', async t => {
    const client = await cluster.client()
    const users = await Promise.all(Array.from({ length: 12 }, (_, i) => login(cluster.instances[i % 3])))
    const start = await A.get('/api/auth/revocations?limit=1000', client)
    let cursor = start.body.cursor as string
    const seen = new Set<string>()
    const poll = async () => {
      const res = await A.get(`/api/auth/revocations?since=${encodeURIComponent(cursor)}&limit=1000`, client)
      for (const item of res.body.items as Array<{ sid?: string }>) if (item.sid) seen.add(item.sid)
      cursor = res.body.cursor
    }
    const polling = { on: true }
    const poller = (async () => { while (polling.on) await poll() })()
    await Promise.all(users.map((user, i) => [B, C][i % 2].post('/api/auth/logout', { refresh: user.refresh })))
    polling.on = false
    await poller
    await poll()
    const sids = users.map(user => JSON.parse(Buffer.from(user.access.split('.')[1], 'base64url').toString()).sid as string)
    t.same(sids.filter(sid => !seen.has(sid)), [], 'every logout reached the poller')
  })

  t.test('pruning runs once per interval across the cluster, not once per process', async t => {
    const runs: Array<{ at: number, by: string }> = []
    await waitUntil(async () => {
      const row = await cluster.query<{ last_run_at: Date, ran_by: string }>("SELECT last_run_at, ran_by FROM background_jobs WHERE name = 'prune'")
      const at = row[0]?.last_run_at.getTime()
      if (at !== undefined && runs.at(-1)?.at !== at) runs.push({ at, by: row[0].ran_by })
      return runs.length >= 4
    }, 30_000, 'four pruning runs', t)
    for (let i = 1; i < runs.length; i++) t.ok(runs[i].at - runs[i - 1].at >= 1000, 'a whole interval between two runs')
  })

  t.test('SIGKILL of B during a write load loses no acknowledged write; A and C keep answering', async t => {
    const admin = await cluster.admin(A)
    const acknowledged: string[] = []
    let killed = false
    const load = (instance: Instance, count: number) => (async () => {
      const failures: number[] = []
      for (let i = 0; i < count; i++) {
        if (instance === B && killed) break
        const user = newUser()
        try {
          const res = await instance.post('/api/auth/register', user)
          if (res.status === 201) acknowledged.push(user.email)
          else failures.push(res.status)
        } catch (err) {
          if (instance !== B) throw err
        }
      }
      return failures
    })()
    const writers = [load(A, 40), load(B, 1000), load(C, 40)]
    await waitUntil(() => acknowledged.length >= 20, 30_000, 'writes under way', t)
    killed = true
    B.child.kill('SIGKILL')
    const [failuresA, , failuresC] = await Promise.all(writers)
    t.same(failuresA, [], 'A kept answering')
    t.same(failuresC, [], 'C kept answering')
    for (const email of acknowledged) {
      const res = await A.get(`/api/admin/users?q=${encodeURIComponent(email)}`, admin)
      if (res.body.items.length !== 1) t.fail(`acknowledged ${email} is missing`)
    }
    t.pass(`${acknowledged.length} acknowledged registrations all stored`)
    t.equal((await C.get('/health/ready')).status, 200)
  })
}
