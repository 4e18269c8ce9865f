// inTransaction on a real server: deadlocks and serialization failures run the work again instead of
// surfacing (never a 500); other errors surface at once.
import t from 'tap'
import { eq } from 'drizzle-orm'
import { inTransaction, pgError } from '../../../db/postgres/database.js'
import { users } from '../../../db/postgres/schema.js'
import { freshDatabase, insertUser } from './fresh-database.js'
import { instances } from './instances.js'

function deferred () {
  let settle!: () => void
  const promise = new Promise<void>(resolve => { settle = resolve })
  return { promise, resolve: settle }
}

t.test('two transactions locking two rows in opposite order: the deadlock victim runs again, both succeed', async t => {
  const db = await freshDatabase(t)
  const [one, two] = instances(t, db, 2)
  const a = await insertUser(db)
  const b = await insertUser(db)
  const lockedA = deferred()
  const lockedB = deferred()
  let attempts = 0
  const first = inTransaction(one, async tx => {
    attempts += 1
    await tx.update(users).set({ isStaff: true }).where(eq(users.id, a))
    lockedA.resolve()
    await lockedB.promise
    await tx.update(users).set({ isStaff: true }).where(eq(users.id, b))
    return 'first'
  })
  const second = inTransaction(two, async tx => {
    attempts += 1
    await tx.update(users).set({ isActive: false }).where(eq(users.id, b))
    lockedB.resolve()
    await lockedA.promise
    await tx.update(users).set({ isActive: false }).where(eq(users.id, a))
    return 'second'
  })
  t.same(await Promise.all([first, second]), ['first', 'second'], 'no error surfaces')
  t.equal(attempts, 3, 'PostgreSQL aborted one of them as the deadlock victim, and it ran again')
  const rows = await db.select({ isStaff: users.isStaff, isActive: users.isActive }).from(users)
  t.same(rows, [{ isStaff: true, isActive: false }, { isStaff: true, isActive: false }], 'both transactions committed all their writes')
})

t.test('the same deadlock without inTransaction surfaces as 40P01: what the retry spares the client', async t => {
  const db = await freshDatabase(t)
  const [one, two] = instances(t, db, 2)
  const a = await insertUser(db)
  const b = await insertUser(db)
  const lockedA = deferred()
  const lockedB = deferred()
  const settled = await Promise.allSettled([
    one.transaction(async tx => {
      await tx.update(users).set({ isStaff: true }).where(eq(users.id, a))
      lockedA.resolve()
      await lockedB.promise
      await tx.update(users).set({ isStaff: true }).where(eq(users.id, b))
    }),
    two.transaction(async tx => {
      await tx.update(users).set({ isActive: false }).where(eq(users.id, b))
      lockedB.resolve()
      await lockedA.promise
      await tx.update(users).set({ isActive: false }).where(eq(users.id, a))
    })
  ])
  const failed = settled.filter(s => s.status === 'rejected')
  t.equal(failed.length, 1)
  t.equal(pgError((failed[0] as PromiseRejectedResult).reason)?.code, '40P01')
})

t.test('a serialization failure (REPEATABLE READ, a concurrent update) runs the work again from the start', async t => {
  const db = await freshDatabase(t)
  const [one, two] = instances(t, db, 2)
  const id = await insertUser(db)
  let attempts = 0
  const result = await inTransaction(one, async tx => {
    attempts += 1
    const [row] = await tx.select().from(users).where(eq(users.id, id))
    // Another instance changes the row after this transaction's snapshot was taken, the first time only.
    if (attempts === 1) await two.update(users).set({ isStaff: true }).where(eq(users.id, id))
    await tx.update(users).set({ isSuperuser: row.isStaff }).where(eq(users.id, id))
    return attempts
  }, { isolationLevel: 'repeatable read' })
  t.equal(result, 2, 'the first attempt failed with 40001 and the second succeeded')
  const [row] = await db.select().from(users).where(eq(users.id, id))
  t.equal(row.isSuperuser, true, 'the retry read the committed update')
})

t.test('other errors are not retried', async t => {
  const db = await freshDatabase(t)
  const id = await insertUser(db)
  let attempts = 0
  await t.rejects(inTransaction(db, async tx => {
    attempts += 1
    await tx.insert(users).values({ id, email: 'x@example.com', username: 'x', usernameKey: 'x', dateJoined: new Date() })
  }), 'a duplicate key fails')
  t.equal(attempts, 1)
})
