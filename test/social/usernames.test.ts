// Usernames for accounts created by a provider login: valid for the Username schema, and unique.
import t from 'tap'
import { usernameBase, usernameCandidates } from '../../src/social/usernames.js'

t.test('usernameBase keeps what a username allows and replaces the rest', async t => {
  t.equal(usernameBase('octocat'), 'octocat')
  t.equal(usernameBase('Ada Lovelace!'), 'Ada_Lovelace_')
  t.equal(usernameBase('ｆｕｌｌｗｉｄｔｈ'), 'fullwidth', 'NFKC-normalised')
  t.equal(usernameBase('a'.repeat(80)).length, 30, 'at most 30 characters')
  for (const hopeless of [null, '', '___', '!!!', '  ']) t.equal(usernameBase(hopeless), 'user', `${JSON.stringify(hopeless)} becomes "user"`)
})

t.test('usernameCandidates: the base, then 2 to 9, then random suffixes that do not repeat', async t => {
  const candidates = usernameCandidates('ada')
  const first = Array.from({ length: 12 }, () => candidates.next().value as string)
  t.same(first.slice(0, 9), ['ada', 'ada2', 'ada3', 'ada4', 'ada5', 'ada6', 'ada7', 'ada8', 'ada9'])
  for (const name of first.slice(9)) t.match(name, /^ada_[0-9a-f]{6}$/)
  t.equal(new Set(first).size, first.length)
})
