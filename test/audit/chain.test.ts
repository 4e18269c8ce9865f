// The hash chain: `audit verify` passes on an untouched log (after concurrent appends from two
// instances, after pruning) and names the first edited, deleted, inserted or reordered entry;
// `audit export` streams entries.
import { test, type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, manualClock, newUser } from '../helper.js'
import { portcullis, tempDatabase } from '../cli/run.js'
import { rawDatabase } from '../databases.js'
import { entryHash } from '../../db/audit-chain.js'
import { auditMaintenance, writeCheckpoint } from '../../src/audit/chain.js'

const KEY = 'an audit signing key of more than 32 bytes'

async function register (app: FastifyInstance, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: newUser() })
    if (res.statusCode !== 201) throw new Error(res.body)
  }
}

/** A database with `n` events (one registration each), an app on it and a raw connection. */
async function seeded (t: Test, n = 6) {
  const db = await tempDatabase(t)
  const env = { ...db.env, AUDIT_SIGNING_KEY: KEY }
  const app = await build(t, {}, { env })
  await register(app, n)
  return { db, env, app, raw: rawDatabase(t, db.url) }
}

test('an untouched log verifies, and the export streams it', async t => {
  const { env, app } = await seeded(t, 3)
  await writeCheckpoint(app.repositories.audit, KEY, new Date())
  const verified = await portcullis(['audit', 'verify'], env)
  t.equal(verified.code, 0, verified.stderr)
  t.equal(verified.stdout, 'The audit log verifies: 3 entries, 1 checkpoints (signatures checked).\n')
  const exported = await portcullis(['audit', 'export', '--since', '1d', '--format', 'jsonl'], env)
  t.equal(exported.code, 0, exported.stderr)
  const lines = exported.stdout.trim().split('\n').map(line => JSON.parse(line))
  t.same(lines.map(line => [line.seq, line.type, line.actor_type]), [[1, 'user.created', 'user'], [2, 'user.created', 'user'], [3, 'user.created', 'user']])
  t.equal(lines[1].prev_hash, lines[0].hash)
  const later = await portcullis(['audit', 'export', '--since', new Date(Date.now() + 60_000).toISOString(), '--format', 'json'], env)
  t.equal(later.stdout, '[]\n')
  const bad = await portcullis(['audit', 'export', '--since', 'yesterday'], env)
  t.equal(bad.code, 1)
  t.match(bad.stderr, /--since must be/)
  const wrongKey = await portcullis(['audit', 'verify'], { ...env, AUDIT_SIGNING_KEY: 'another key, also of more than 32 bytes' })
  t.equal(wrongKey.code, 1)
  t.match(wrongKey.stderr, /checkpoint at seq 3 has no valid signature/)
})

test('an edited entry is named', async t => {
  const { env, raw } = await seeded(t)
  await raw.run('UPDATE audit_events SET data = ? WHERE seq = 3', '{"username":"mallory"}')
  const res = await portcullis(['audit', 'verify'], env)
  t.equal(res.code, 1)
  t.match(res.stderr, /entry 3 does not match its hash: edited \(after 2 good entries\)/)
})

test('an entry edited with its hash recomputed breaks the link to the next one', async t => {
  const { env, raw } = await seeded(t)
  const [row] = await raw.query<Record<string, string | number | null>>('SELECT * FROM audit_events WHERE seq = 3')
  const forged = { seq: 3, id: String(row.id), at: new Date(Number(row.at)), type: 'user.deleted', actorType: String(row.actor_type), actorId: row.actor_id as string | null, subjectId: row.subject_id as string | null, ip: row.ip as string | null, userAgent: row.user_agent as string | null, requestId: row.request_id as string | null, data: String(row.data) }
  await raw.run('UPDATE audit_events SET type = ?, hash = ? WHERE seq = 3', 'user.deleted', entryHash(String(row.prev_hash), forged))
  const res = await portcullis(['audit', 'verify'], env)
  t.equal(res.code, 1)
  t.match(res.stderr, /entry 4 does not follow entry 3/)
})

test('a deleted entry is named', async t => {
  const { env, raw } = await seeded(t)
  await raw.run('DELETE FROM audit_events WHERE seq = 4')
  const res = await portcullis(['audit', 'verify'], env)
  t.equal(res.code, 1)
  t.match(res.stderr, /entry 4 is missing: deleted/)
})

test('reordered entries are named', async t => {
  const { env, raw } = await seeded(t)
  await raw.run('UPDATE audit_events SET seq = -1 WHERE seq = 2')
  await raw.run('UPDATE audit_events SET seq = 2 WHERE seq = 3')
  await raw.run('UPDATE audit_events SET seq = 3 WHERE seq = -1')
  const res = await portcullis(['audit', 'verify'], env)
  t.equal(res.code, 1)
  t.match(res.stderr, /entry 2 does not match its hash/)
})

test('an inserted entry is named', async t => {
  const { env, raw } = await seeded(t)
  await raw.run('UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 4')
  await raw.run('UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1000')
  await raw.run(`INSERT INTO audit_events (seq, id, at, type, actor_type, data, prev_hash, hash)
                 SELECT 4, 'evt_forged', at, 'user.login', 'user', '{}', hash, hash FROM audit_events WHERE seq = 3`)
  const res = await portcullis(['audit', 'verify'], env)
  t.equal(res.code, 1)
  t.match(res.stderr, /entry 4 does not match its hash: edited/)
})

test('entries deleted at the end are caught by the head and the checkpoints', async t => {
  const { env, app, raw } = await seeded(t)
  await writeCheckpoint(app.repositories.audit, KEY, new Date())
  await raw.run('DELETE FROM audit_events WHERE seq >= 5')
  const res = await portcullis(['audit', 'verify'], env)
  t.equal(res.code, 1)
  t.match(res.stderr, /entries 5 to 6 are missing/)
})

test('pruning keeps the log verifiable: entries past AUDIT_RETENTION go with a signed checkpoint', async t => {
  const db = await tempDatabase(t)
  const env = { ...db.env, AUDIT_SIGNING_KEY: KEY, AUDIT_RETENTION: '30d' }
  const clock = manualClock()
  clock.advance(-40 * 86_400_000)
  const app = await build(t, {}, { env, now: clock.now })
  await register(app, 4)
  clock.advance(40 * 86_400_000)
  await register(app, 2)
  const pruned = await auditMaintenance(app.auth, 3, 10)
  t.equal(pruned, 4, 'the four old entries, in batches of three')
  const verified = await portcullis(['audit', 'verify'], env)
  t.equal(verified.code, 0, verified.stderr)
  // The periodic checkpoint at the head and the last prune checkpoint: the first batch's went with
  // the second batch's entries (a checkpoint of deleted entries vouches for nothing).
  t.match(verified.stdout, /2 entries, 2 checkpoints/)
  t.same((await app.repositories.audit.checkpoints()).map(c => [c.seq, c.kind]), [[4, 'prune'], [6, 'periodic']])
  const raw = rawDatabase(t, db.url)
  await raw.run('DELETE FROM audit_events WHERE seq = 5')
  const broken = await portcullis(['audit', 'verify'], env)
  t.equal(broken.code, 1)
  t.match(broken.stderr, /entry 5 is missing/)
})

test('concurrent appends from two instances form one chain', async t => {
  const db = await tempDatabase(t)
  const env = { ...db.env, AUDIT_SIGNING_KEY: KEY }
  const first = await build(t, {}, { env })
  const second = await build(t, {}, { env })
  await Promise.all([first, second, first, second, first, second].map(app => register(app, 5)))
  const events = await first.repositories.audit.list({ limit: 100 })
  t.same(events.map(e => e.seq), Array.from({ length: 30 }, (_, i) => i + 1), 'seqs 1 to 30 without a gap')
  const verified = await portcullis(['audit', 'verify'], env)
  t.equal(verified.code, 0, verified.stderr)
})
