// Every per-address limit counts a client by its key: IPv4-mapped addresses as IPv4, IPv6 by network.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, registerUser } from '../helper.js'

function checkResetLink (app: FastifyInstance, remoteAddress: string) {
  return app.inject({ method: 'GET', url: '/api/auth/password/reset/confirm?token=nope', remoteAddress })
}

function failLogin (app: FastifyInstance, email: string, remoteAddress: string) {
  return app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: 'wrong password' }, remoteAddress })
}

t.test('a per-address request limit counts ::ffff:192.0.2.77 and 192.0.2.77 as one client', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_TOKEN_IP: '2/1m' } })
  t.equal((await checkResetLink(app, '192.0.2.77')).statusCode, 400)
  t.equal((await checkResetLink(app, '::ffff:192.0.2.77')).statusCode, 400)
  t.equal((await checkResetLink(app, '192.0.2.77')).statusCode, 429, 'the third request of the one client')
  t.equal((await checkResetLink(app, '::ffff:192.0.2.78')).statusCode, 400, 'another IPv4 client counts apart')
})

t.test('a per-address request limit counts every address of one IPv6 /64 as one client', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_TOKEN_IP: '2/1m' } })
  t.equal((await checkResetLink(app, '2001:db8:1:2::a')).statusCode, 400)
  t.equal((await checkResetLink(app, '2001:db8:1:2:ffff:ffff:ffff:ffff')).statusCode, 400)
  t.equal((await checkResetLink(app, '2001:db8:1:2::c')).statusCode, 429, 'a fresh address of the same /64 is limited')
  t.equal((await checkResetLink(app, '2001:db8:1:3::a')).statusCode, 400, 'the next /64 is another client')
})

t.test('RATE_LIMIT_IPV6_PREFIX sets the network an IPv6 client counts by', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_TOKEN_IP: '1/1m', RATE_LIMIT_IPV6_PREFIX: '48' } })
  t.equal((await checkResetLink(app, '2001:db8:1:2::a')).statusCode, 400)
  t.equal((await checkResetLink(app, '2001:db8:1:ff::a')).statusCode, 429, 'same /48')
  t.equal((await checkResetLink(app, '2001:db8:2::a')).statusCode, 400, 'another /48')

  const exact = await build(t, {}, { env: { RATE_LIMIT_TOKEN_IP: '1/1m', RATE_LIMIT_IPV6_PREFIX: '128' } })
  t.equal((await checkResetLink(exact, '2001:db8:1:2::a')).statusCode, 400)
  t.equal((await checkResetLink(exact, '2001:db8:1:2::b')).statusCode, 400, '128: every address apart')
  t.equal((await checkResetLink(exact, '2001:db8:1:2::a')).statusCode, 429)
})

t.test('the login throttle counts an address by the same key', async t => {
  const app = await build(t, {}, { env: { RATE_LIMIT_LOGIN_IP: '2/1m' } })
  const { email } = await registerUser(app)
  t.equal((await failLogin(app, email, '192.0.2.77')).statusCode, 401)
  t.equal((await failLogin(app, `other-${email}`, '::ffff:192.0.2.77')).statusCode, 401)
  t.equal((await failLogin(app, `third-${email}`, '192.0.2.77')).statusCode, 429, 'mapped and plain are one address')

  t.equal((await failLogin(app, email, '2001:db8:1:2::a')).statusCode, 401)
  t.equal((await failLogin(app, `other-${email}`, '2001:db8:1:2::b')).statusCode, 401)
  t.equal((await failLogin(app, `third-${email}`, '2001:db8:1:2::c')).statusCode, 429, 'one /64 is one address')
  t.equal((await failLogin(app, `third-${email}`, '2001:db8:1:3::c')).statusCode, 401, 'the next /64 is not limited')
})
