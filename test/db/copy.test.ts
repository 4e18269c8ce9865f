// copySqliteToPostgres: every row of every table arrives unchanged, in batches, in one transaction;
// a non-empty target is refused and a differing count rolls back.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { sql } from 'drizzle-orm'
import { CopyFailedError, copyPlan, copySqliteToPostgres, CountMismatchError, TargetNotEmptyError } from '../../db/copy.js'
import type { PgDb } from '../../db/postgres/database.js'
import { appendRevocationEvent } from '../../db/postgres/revocation-events.js'
import { revocationEvents } from '../../db/postgres/schema.js'
import { openDatabase, sqliteRepositories, type SqliteDb } from '../../db/sqlite/index.js'
import { BUILTIN_PERMISSIONS } from '../admin-helper.js'
import { freshDatabase, type Teardown } from './postgres/fresh-database.js'

const MINUTE = 60_000
const DAY = 86_400_000

function sqliteDatabase (t: Teardown): SqliteDb {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-copy-'))
  const db = openDatabase(`file:${join(dir, 'p.db')}`)
  t.teardown(() => {
    db.$client.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return db
}

/** A SQLite database with rows in every table, every optional column set somewhere, and a feed whose newest events were pruned. */
async function populated (t: Teardown): Promise<SqliteDb> {
  const db = sqliteDatabase(t)
  const repos = sqliteRepositories(db)
  const now = new Date(Date.now() - MINUTE)
  const at = (ms: number) => new Date(now.getTime() + ms)

  for (let i = 1; i <= 5; i++) {
    await repos.users.create({ id: `u${i}`, email: `u${i}@example.com`, username: `User${i}`, passwordHash: `$2a$04$hash${i}`, dateJoined: at(i), emailVerified: i % 2 === 0, isStaff: i === 1, isSuperuser: i === 1 })
  }
  await repos.users.update('u3', { isBanned: true, banReason: 'spam', bannedUntil: at(DAY), isActive: false, lastLogin: at(5), passwordHash: null })
  await repos.authorization.createPermission({ codename: 'posts.add', description: 'Can add posts', createdAt: at(1) })
  await repos.authorization.createGroup({ id: 'g1', name: 'editors', permissions: ['posts.add', 'users.view'], createdAt: at(2) })
  await repos.authorization.createGroup({ id: 'g2', name: 'empty', permissions: [], createdAt: at(3) })
  await repos.authorization.setUserGroups('u2', ['g1', 'g2'])
  await repos.authorization.setUserPermissions('u2', ['users.ban'])

  for (let i = 1; i <= 3; i++) {
    await repos.sessions.create({ id: `s${i}`, userId: `u${i}`, createdAt: at(i), userAgent: i === 1 ? null : 'agent', ip: i === 1 ? null : '192.0.2.1', firstToken: { id: `s${i}-t0`, tokenHash: `s${i}-h0`, expiresAt: at(DAY) } })
  }
  const rotated = await repos.sessions.rotate({ tokenHash: 's1-h0', now: at(10), graceMs: 10_000, successor: { id: 's1-t1', tokenHash: 's1-h1', expiresAt: at(2 * DAY), sealed: 'sealed-successor' }, ip: '192.0.2.9', userAgent: 'agent 2' })
  if (rotated.kind !== 'rotated') throw new Error(`rotation: ${rotated.kind}`)
  await repos.sessions.revoke('u3', 's3', at(20), 'logout')
  await repos.signingKeys.rotate({ key: { kid: 'k1', algorithm: 'RS256', privateKey: 'PEM 1', publicJwk: '{"kty":"RSA"}', createdAt: at(0), retiredAt: null }, now: at(0), retireAt: at(0) })
  await repos.signingKeys.rotate({ key: { kid: 'k2', algorithm: 'RS256', privateKey: 'PEM 2', publicJwk: '{"kty":"RSA","n":"2"}', createdAt: at(1), retiredAt: null }, now: at(1), retireAt: at(MINUTE) })
  await repos.oneTimeTokens.issue({ id: 'ott1', userId: 'u4', purpose: 'verify_email', tokenHash: 'ott-h1', email: 'u4@example.com', createdAt: at(1), expiresAt: at(DAY) })
  await repos.oneTimeTokens.issue({ id: 'ott2', userId: 'u4', purpose: 'reset_password', tokenHash: 'ott-h2', email: 'u4@example.com', createdAt: at(1), expiresAt: at(DAY) })
  await repos.oneTimeTokens.consume('ott-h2', 'reset_password', at(2))
  await repos.socialAccounts.link({ id: 'sa1', provider: 'github', providerUserId: '1001', userId: 'u5', email: null, linkedAt: at(1), lastLoginAt: null })
  await repos.socialAccounts.link({ id: 'sa2', provider: 'google', providerUserId: 'g-1', userId: 'u5', email: 'u5@gmail.test', linkedAt: at(2), lastLoginAt: at(3) })
  await repos.socialAccounts.saveState('state-1', { provider: 'google', codeVerifier: 'v', nonce: null, redirectTo: 'https://app.example/done', createdAt: at(1), expiresAt: at(10 * MINUTE) })
  await repos.serviceClients.create({ id: 'c1', name: 'billing', scopes: ['orders.read', 'orders.write'], secretHash: 'secret-1', createdAt: at(1), lastUsedAt: null })
  await repos.serviceClients.create({ id: 'c2', name: 'gone', scopes: [], secretHash: 'secret-2', createdAt: at(2), lastUsedAt: null })
  await repos.serviceClients.touch('c1', at(3), 0)
  await repos.serviceClients.revokeToken({ jti: 'jti-1', clientId: 'c1', expiresAt: at(5 * MINUTE) }, at(4))
  await repos.serviceClients.delete('c2', at(30))
  await repos.users.delete('u4', at(40))
  await repos.backgroundJobs.claim('prune', MINUTE, at(50), 'host:1:abc')
  // The newest event pruned away: its seq must still never be handed out again.
  db.$client.exec('DELETE FROM revocation_events WHERE seq = (SELECT max(seq) FROM revocation_events)')
  return db
}

/** Every table's rows, in a stable order, as plain values. */
async function snapshot (source: SqliteDb, target: PgDb) {
  const sorted = (rows: unknown[]) => rows.map(row => JSON.stringify(row)).sort()
  const tables: Record<string, { sqlite: string[], postgres: string[] }> = {}
  for (const table of copyPlan()) {
    tables[table.name] = {
      sqlite: sorted(source.select().from(table.source).all()),
      postgres: sorted(await target.select().from(table.target))
    }
  }
  return tables
}

async function countRows (db: PgDb, table: string): Promise<number> {
  const { rows } = await db.execute<{ n: string }>(sql.raw(`SELECT count(*) AS n FROM "${table}"`))
  return Number(rows[0].n)
}

t.test('every row of every table arrives unchanged, in batches; the feed continues past SQLite\'s last seq', async t => {
  const source = await populated(t)
  const target = await freshDatabase(t)
  const told: Array<[string, number]> = []
  const counts = await copySqliteToPostgres(source, target, { batchSize: 2, onTable: (table, rows) => told.push([table, rows]) })

  const tables = await snapshot(source, target)
  for (const [name, rows] of Object.entries(tables)) {
    t.same(rows.postgres, rows.sqlite, `${name}: the same rows`)
  }
  t.ok(tables.users.sqlite.length > 2 && tables.refresh_tokens.sqlite.length > 2, 'more rows than one batch')
  t.match(tables.refresh_tokens.postgres.find(row => row.includes('"s1-t0"')), /"rotatedAt":"[^"]+","successorId":"s1-t1","successorSealed":"sealed-successor"/, 'successor fields')
  t.same(counts.map(c => c.table), copyPlan().map(p => p.name), 'a count for every table, in copy order')
  t.ok(counts.every(c => c.source === c.target && c.source === tables[c.table].sqlite.length), 'counts match')
  t.same(told, counts.map(c => [c.table, c.source]), 'told of each table')
  t.equal(counts.find(c => c.table === 'permissions')?.target, BUILTIN_PERMISSIONS.length + 1, 'the built-ins seeded by both sides, once, plus posts.add')

  // SQLite handed out a seq for each revocation (session s3, client c2, user u4); the last one was pruned.
  const high = (source.$client.prepare('SELECT seq FROM sqlite_sequence WHERE name = \'revocation_events\'').get() as { seq: number }).seq
  t.ok(high > tables.revocation_events.sqlite.length, 'the newest event was pruned in SQLite')
  await target.transaction(tx => appendRevocationEvent(tx, { subject: 'u1' }, new Date()))
  const [newest] = await target.select({ seq: revocationEvents.seq }).from(revocationEvents).orderBy(sql`seq DESC`).limit(1)
  t.equal(newest.seq, high + 1, 'the next event follows the last seq SQLite ever gave')
})

t.test('an empty source copies nothing but the built-in permissions, and the feed starts at 1', async t => {
  const source = sqliteDatabase(t)
  const target = await freshDatabase(t)
  const counts = await copySqliteToPostgres(source, target)
  t.ok(counts.every(c => c.source === c.target))
  t.equal(counts.find(c => c.table === 'permissions')?.target, BUILTIN_PERMISSIONS.length)
  t.equal(counts.filter(c => c.target > 0).length, 1)
  await target.transaction(tx => appendRevocationEvent(tx, { subject: 'u1' }, new Date()))
  t.same(await target.select({ seq: revocationEvents.seq }).from(revocationEvents), [{ seq: 1 }])
})

t.test('a target holding rows is refused, naming the tables, and nothing is written', async t => {
  const source = await populated(t)
  const target = await freshDatabase(t)
  await target.execute(sql`INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at) VALUES ('other', 'RS256', 'p', '{}', now())`)
  await target.execute(sql`INSERT INTO attempt_counters (key, count, reset_at) VALUES ('k', 1, now())`)
  const error = await copySqliteToPostgres(source, target).catch(err => err)
  t.type(error, TargetNotEmptyError)
  t.same(error.tables, ['attempt_counters', 'signing_keys'])
  t.equal(error.message, 'The target database is not empty: attempt_counters, signing_keys hold rows.')
  t.equal(await countRows(target, 'users'), 0, 'nothing written')
  t.equal(await countRows(target, 'signing_keys'), 1)
})

t.test('a permission the source does not have counts as data', async t => {
  const source = sqliteDatabase(t)
  const target = await freshDatabase(t)
  await target.execute(sql`INSERT INTO permissions (codename, description, created_at) VALUES ('posts.zap', 'z', now())`)
  await t.rejects(copySqliteToPostgres(source, target), new TargetNotEmptyError(['permissions']))
})

t.test('a count that differs after the copy rolls everything back', async t => {
  const source = await populated(t)
  const target = await freshDatabase(t)
  // A trigger that swallows one session: the copy runs, but the count cannot match.
  await target.execute(sql.raw(`
    CREATE FUNCTION skip_s2() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = 's2' THEN RETURN NULL; END IF; RETURN NEW; END $$;
    CREATE TRIGGER skip_s2 BEFORE INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION skip_s2();
    CREATE FUNCTION skip_s2_tokens() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.session_id = 's2' THEN RETURN NULL; END IF; RETURN NEW; END $$;
    CREATE TRIGGER skip_s2_tokens BEFORE INSERT ON refresh_tokens FOR EACH ROW EXECUTE FUNCTION skip_s2_tokens();`))
  const error = await copySqliteToPostgres(source, target).catch(err => err)
  t.type(error, CountMismatchError)
  t.same(error.counts.filter((c: { source: number, target: number }) => c.source !== c.target).map((c: { table: string }) => c.table), ['sessions', 'refresh_tokens'])
  t.match(error.message, /Row counts differ after the copy \(sessions, refresh_tokens\); nothing was written/)
  for (const table of ['users', 'sessions', 'permissions']) {
    t.equal(await countRows(target, table), table === 'permissions' ? BUILTIN_PERMISSIONS.length : 0, `${table}: rolled back`)
  }
})

t.test('rows PostgreSQL refuses: the table is named, no row data is in the message, nothing is written', async t => {
  const source = await populated(t)
  // SQLite stores a NUL in text; PostgreSQL's text cannot hold one.
  source.$client.prepare('UPDATE sessions SET user_agent = ? WHERE id = ?').run('agent\u0000', 's2')
  const target = await freshDatabase(t)
  const error = await copySqliteToPostgres(source, target).catch(err => err)
  t.type(error, CopyFailedError)
  t.equal(error.table, 'sessions')
  t.match(error.message, /^Copying sessions failed, nothing was written: invalid byte sequence for encoding "UTF8": 0x00$/)
  t.notMatch(error.message, /\$2a\$|s2-h0|192\.0\.2/, 'no parameters')
  t.equal(await countRows(target, 'users'), 0)
})

t.test('the copy plan covers both schemas, column for column', async t => {
  const plan = copyPlan()
  t.equal(plan.length, 27)
  t.ok(plan.every(table => table.columns.length > 0))
})
