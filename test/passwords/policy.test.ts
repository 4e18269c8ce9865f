// Django's CommonPasswordValidator and UserAttributeSimilarityValidator in the password policy, and their settings.
import t from 'tap'
import { createPasswordPolicy, passwordProblems } from '../../src/passwords/policy.js'
import { isCommonPassword } from '../../src/passwords/common-passwords.js'

t.test('Django\'s common-password list is refused, compared lower-cased and trimmed', async t => {
  t.ok(isCommonPassword('password1234'))
  t.ok(isCommonPassword('PassWord1234'), 'case-insensitive')
  t.ok(isCommonPassword(' password1234 '), 'trimmed, as Django strips')
  t.notOk(isCommonPassword('correct horse battery'))
  t.match(passwordProblems('password1234'), ['must not be a commonly used password'])
  t.match(passwordProblems('qwertyuiop123'), ['must not be a commonly used password'])
  t.same(passwordProblems('password1234', {}, { commonPasswords: false, maxSimilarity: 0.7 }), [], 'PASSWORD_COMMON_CHECK=false')
})

t.test('a password too similar to the username, the email or its local part is refused', async t => {
  const ada = { email: 'ada.lovelace@example.com', username: 'countess' }
  t.same(passwordProblems('adalovelace1', ada), ['must not be too similar to the email address'])
  t.same(passwordProblems('Countess99', ada), ['must not be too similar to the username'])
  t.same(passwordProblems('correct horse battery', ada), [])
  t.same(passwordProblems('adalovelace1', ada, { commonPasswords: true, maxSimilarity: 0 }), [], 'PASSWORD_MAX_SIMILARITY=off')
  t.same(passwordProblems('Countess99', ada, { commonPasswords: true, maxSimilarity: 1 }), [], 'only an anagram is refused at 1.0')
  t.same(passwordProblems('ssetnuoc', ada, { commonPasswords: true, maxSimilarity: 1 }), ['must not be too similar to the username'])
  // The local part whole: Django splits the address on non-word characters only.
  t.same(passwordProblems('Xada_lovelX', { email: 'ada_lov@example.org' }), ['must not be too similar to the email address'])
  t.same(passwordProblems('AdaLovelace', { username: 'adalovelace' }), ['must not be the same as the username'], 'the same: said once')
})

t.test('the policy checks the breach corpus only for a password that passes every other rule', async t => {
  const asked: string[] = []
  const policy = createPasswordPolicy(undefined, async password => { asked.push(password); return password === 'breached but long' })
  t.same(await policy.check('short'), ['must be at least 8 characters long'])
  t.same(asked, [], 'a password refused anyway is not looked up')
  t.same(await policy.check('breached but long'), ['has appeared in a data breach; choose another one'])
  t.same(await policy.check('correct horse battery'), [])
  t.same(policy.problems('breached but long'), [], 'problems() is the synchronous rules only')
  t.same(await createPasswordPolicy().check('breached but long'), [], 'no check configured')
})
