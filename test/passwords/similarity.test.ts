// The port of difflib's quick_ratio and of Django's UserAttributeSimilarityValidator, against Python's own answers.
import t from 'tap'
import { quickRatio, tooSimilarTo } from '../../src/passwords/similarity.js'

t.test('quickRatio gives what difflib.SequenceMatcher(a=…, b=…).quick_ratio() gives (CPython 3)', async t => {
  // Each expected value was printed by CPython's difflib.
  const cases: Array<[string, string, number]> = [
    ['password1234', 'ada', 0.26666666666666666],
    ['adalovelace', 'ada.lovelace@example.com', 0.6285714285714286],
    ['lovelace99', 'lovelace', 0.8888888888888888],
    ['abcdefgh', 'hgfedcba', 1.0],
    ['aaaa', 'a', 0.4],
    ['', '', 1.0],
    ['tests', 'testing', 0.6666666666666666],
    ['Ünïcödé1', 'ünïcödé', 0.8],
    ['😀😀pass', '😀pass', 0.9090909090909091],
    ['qwertyuiopas', 'qwerty', 0.6666666666666666],
    ['xyz', 'abcdef', 0.0]
  ]
  for (const [a, b, expected] of cases) t.equal(quickRatio(a, b), expected, `${a} / ${b}`)
})

t.test('tooSimilarTo decides as Django\'s validator does (CPython 3 reference, max_similarity 0.7, 0.5, 1.0)', async t => {
  type Case = [string, Array<[string, string]>, string | undefined, string | undefined, string | undefined]
  // The expected names were printed by Django's algorithm run in CPython (re.split(r"\W+"), quick_ratio, the length shortcut).
  const cases: Case[] = [
    ['adalovelace1', [['username', 'ada'], ['email', 'ada.lovelace@example.com']], 'email', 'email', undefined],
    ['lovelace99', [['username', 'ada'], ['email', 'ada.lovelace@example.com']], 'email', 'email', undefined],
    ['correct horse battery', [['username', 'ada'], ['email', 'ada.lovelace@example.com']], undefined, undefined, undefined],
    ['Ada12345', [['username', 'ada'], ['email', 'a@example.com']], undefined, 'username', undefined],
    ['examplecom', [['username', 'zed'], ['email', 'ada@example.com']], 'email', 'email', undefined],
    ['tsetusername', [['username', 'testusername'], ['email', 'x@y.z']], 'username', 'username', 'username'],
    ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', [['username', 'a'], ['email', 'a@b.c']], undefined, undefined, undefined],
    ['Пароль2024!', [['username', 'пароль'], ['email', 'p@example.org']], 'username', 'username', undefined],
    ['qwertyuiopas', [['username', 'qwerty'], ['email', 'q@example.org']], undefined, 'username', undefined],
    ['sw0rdf1sh!', [['username', 'swordfish'], ['email', 's@example.org']], 'username', 'username', undefined]
  ]
  for (const [password, attributes, at07, at05, at10] of cases) {
    t.equal(tooSimilarTo(password, attributes), at07, `${password} at 0.7 (the default)`)
    t.equal(tooSimilarTo(password, attributes, 0.5), at05, `${password} at 0.5`)
    t.equal(tooSimilarTo(password, attributes, 1.0), at10, `${password} at 1.0`)
  }
})

t.test('an absent or empty attribute is skipped', async t => {
  t.equal(tooSimilarTo('anything goes', [['username', undefined], ['email', '']]), undefined)
})
