// Security events are logged at warn with the account id, and never with the password or a token.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { newUser, registerUser, PASSWORD } from '../helper.js'
import { loggedApp, WARN, type LogLine } from '../limits/logged-app.js'
import { SECURITY_EVENT_MESSAGES } from '../../src/http/security-events.js'

const WRONG = 'wrong horse battery staple'

function login (app: FastifyInstance, email: string, password: string) {
  return app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } })
}

function eventLines (lines: LogLine[], event: keyof typeof SECURITY_EVENT_MESSAGES) {
  return lines.filter(line => line.securityEvent === event)
}

t.test('a failed login is logged at warn with the account id, without the password', async t => {
  const { app, lines, raw } = await loggedApp(t)
  const user = await registerUser(app, newUser())
  t.equal((await login(app, user.email, WRONG)).statusCode, 401)
  const [line] = eventLines(lines, 'login_failed')
  t.match(line, { level: WARN, msg: 'security: login failed', accountId: user.id })
  t.notOk(raw().includes(WRONG), 'never the password')

  t.equal((await login(app, 'nobody@example.com', WRONG)).statusCode, 401)
  const unknown = eventLines(lines, 'login_failed')[1]
  t.equal(unknown.level, WARN)
  t.notOk('accountId' in unknown, 'no account: no id, and not what was typed')
})

t.test('a lockout (the throttle\'s 429) is logged at warn with the account id', async t => {
  const { app, lines, raw } = await loggedApp(t, {}, { RATE_LIMIT_LOGIN_ACCOUNT: '1/5m' })
  const user = await registerUser(app, newUser())
  t.equal((await login(app, user.email, WRONG)).statusCode, 401)
  t.equal((await login(app, user.email, PASSWORD)).statusCode, 429)
  const [line] = eventLines(lines, 'login_locked_out')
  t.match(line, { level: WARN, msg: SECURITY_EVENT_MESSAGES.login_locked_out, accountId: user.id })
  t.notOk(raw().includes(PASSWORD), 'never the password')
})

t.test('refresh-token reuse is logged at warn with the account and session ids, without the token', async t => {
  const { app, lines, raw } = await loggedApp(t, { refreshReuseGrace: 0 })
  const user = await registerUser(app, newUser())
  const first = (await login(app, user.email, PASSWORD)).json()
  const rotate = (refresh: string) => app.inject({ method: 'POST', url: '/api/auth/token/refresh', payload: { refresh } })
  const second = (await rotate(first.refresh)).json()
  t.equal((await rotate(first.refresh)).statusCode, 401)
  const [line] = eventLines(lines, 'refresh_token_reused')
  t.match(line, { level: WARN, msg: SECURITY_EVENT_MESSAGES.refresh_token_reused, accountId: user.id })
  t.type(line.sessionId, 'string')
  for (const token of [first.refresh, second.refresh, first.access]) t.notOk(raw().includes(token), 'never a token')
})

t.test('a CSRF refusal is logged at warn with the origin, without the cookie', async t => {
  const { app, lines, raw } = await loggedApp(t)
  const user = await registerUser(app, newUser())
  const { refresh } = (await login(app, user.email, PASSWORD)).json()
  const res = await app.inject({ method: 'POST', url: '/api/auth/token/refresh', headers: { origin: 'https://evil.example', cookie: `refresh_token=${refresh}` } })
  t.equal(res.statusCode, 403)
  const [line] = eventLines(lines, 'csrf_refused')
  t.match(line, { level: WARN, msg: SECURITY_EVENT_MESSAGES.csrf_refused, origin: 'https://evil.example' })
  t.notOk(raw().includes(refresh), 'never the cookie\'s token')
})
