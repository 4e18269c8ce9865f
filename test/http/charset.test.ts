// Request bodies are UTF-8: any other declared charset is 415, JSON and form bodies alike.
import t from 'tap'
import { build, newUser } from '../helper.js'
import { declaredCharset } from '../../src/http/charset.js'

t.test('declaredCharset reads the parameter case-insensitively, quoted or not', async t => {
  t.equal(declaredCharset('application/json; charset=UTF-16'), 'utf-16')
  t.equal(declaredCharset('application/json;charset="utf-8"'), 'utf-8')
  t.equal(declaredCharset('application/json'), undefined)
  t.equal(declaredCharset('application/json; foo="; charset=utf-16"'), undefined, 'not fooled by a quoted parameter value')
})

t.test('a JSON body declared in a charset other than UTF-8 is 415 problem+json and does nothing', async t => {
  const app = await build(t)
  for (const charset of ['utf-16', 'UTF-16LE', 'iso-8859-1', 'us-ascii', '"utf-16"', 'utf-7']) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/auth/register',
      headers: { 'content-type': `application/json; charset=${charset}` },
      payload: JSON.stringify(newUser())
    })
    t.equal(res.statusCode, 415, charset)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.equal(res.json().code, 'unsupported_media_type')
    t.match(res.json().detail, /UTF-8/)
  }
  const body = Buffer.from(JSON.stringify({ email: 'a@example.com', password: 'x' }), 'utf16le')
  const utf16 = await app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json; charset=utf-16le' }, payload: body })
  t.equal(utf16.statusCode, 415, 'real UTF-16 bytes too')
  const users = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: newUser().email, password: 'correct horse battery' } })
  t.equal(users.statusCode, 401, 'nothing was registered')
})

t.test('UTF-8 under any spelling, or no charset, is accepted', async t => {
  const app = await build(t)
  let n = 0
  for (const type of ['application/json', 'application/json; charset=utf-8', 'application/json; charset=UTF-8', 'application/json;charset="utf-8"', 'application/json; charset=utf8']) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { 'content-type': type }, payload: JSON.stringify(newUser({ email: `u${++n}@example.com`, username: `u${n}` })) })
    t.equal(res.statusCode, 201, type)
  }
})

t.test('a form body of the OAuth endpoints in another charset is 415 (in their RFC 6749 error shape)', async t => {
  const app = await build(t)
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1' },
    payload: 'grant_type=client_credentials&client_id=a&client_secret=b'
  })
  t.equal(res.statusCode, 415)
  t.equal(res.json().error, 'invalid_request')
  t.match(res.json().error_description, /UTF-8/)
  const utf8 = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
    payload: 'grant_type=client_credentials&client_id=a&client_secret=b'
  })
  t.equal(utf8.statusCode, 401, 'UTF-8 gets as far as client authentication')
})
