// RevocationList: which tokens the feed's items end, and what it forgets.
import t from 'tap'
import { RevocationList } from '@portcullis/verify'

const HOUR = 3_600_000
const nowMs = Date.parse('2026-11-21T19:00:00.000Z')
const iat = nowMs / 1000 - 60

t.test('a listed sid ends that session only', async t => {
  const list = new RevocationList(HOUR)
  t.equal(list.apply([{ sid: 's1', sub: 'u1', not_before: new Date(nowMs).toISOString() }]), 1)
  t.match(list.revocationOf({ sid: 's1', sub: 'u1', iat }, nowMs), /session has ended/)
  t.equal(list.revocationOf({ sid: 's2', sub: 'u1', iat }, nowMs), undefined, 'an item with a sid does not move the user\'s not-before')
})

t.test('a sub\'s not_before ends the tokens issued before it (ISO or epoch seconds), not those after', async t => {
  const list = new RevocationList(HOUR)
  list.apply([{ sub: 'u1', not_before: new Date(nowMs - 30_000).toISOString() }, { sub: 'u2', not_before: nowMs / 1000 - 30 }])
  for (const sub of ['u1', 'u2']) {
    t.ok(list.revocationOf({ sub, iat: iat - 1 }, nowMs), `${sub}: issued before`)
    t.equal(list.revocationOf({ sub, iat: nowMs / 1000 - 10 }, nowMs), undefined, `${sub}: issued after`)
  }
  t.ok(list.revocationOf({ sub: 'u2', iat: nowMs / 1000 - 30 }, nowMs), 'issued in the same second: refused')
})

t.test('the latest not_before wins, whatever the order', async t => {
  const list = new RevocationList(HOUR)
  list.apply([{ sub: 'u1', not_before: nowMs / 1000 - 10 }, { sub: 'u1', not_before: nowMs / 1000 - 50 }])
  t.ok(list.revocationOf({ sub: 'u1', iat: nowMs / 1000 - 20 }, nowMs))
})

t.test('malformed items are skipped, not fatal', async t => {
  const list = new RevocationList(HOUR)
  t.equal(list.apply([null, 'x', { sid: 's1' }, { sub: 'u1', not_before: 'yesterday' }, { not_before: nowMs / 1000 }, { sid: 7, not_before: 1 }]), 0)
  t.equal(list.size, 0)
})

t.test('entries older than the retention window are forgotten, and tokens that old are refused', async t => {
  const list = new RevocationList(HOUR)
  list.apply([{ sid: 'old', not_before: (nowMs - 2 * HOUR) / 1000 }, { sid: 'new', not_before: nowMs / 1000 }])
  list.prune(nowMs)
  t.equal(list.size, 1)
  t.match(list.revocationOf({ sub: 'u1', iat: (nowMs - 2 * HOUR) / 1000 }, nowMs), /before the revocation window/)
})
