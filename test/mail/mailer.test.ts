import t from 'tap'
import { createServer, type AddressInfo } from 'node:net'
import type { FastifyBaseLogger } from 'fastify'
import { createMailer, type MailMessage } from '../../src/mail/mailer.js'
import { linkWithToken, resetPasswordMail, verifyEmailMail } from '../../src/mail/templates.js'
import { startSmtpServer, mailLink, type SmtpSink } from '../smtp.js'

const FROM = 'Portcullis <no-reply@portcullis.test>'

interface LogLine {
  level: 'info' | 'warn' | 'error'
  obj: Record<string, unknown>
  msg: string
}

/** A logger that records every line, and tells `onLine` about each as it comes. */
function captureLogger (onLine: (line: LogLine) => void = () => {}) {
  const lines: LogLine[] = []
  const write = (level: LogLine['level']) => (obj: Record<string, unknown>, msg: string) => {
    const line = { level, obj, msg }
    lines.push(line)
    onLine(line)
  }
  const logger = {
    level: 'info',
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    fatal: () => {},
    debug: () => {},
    trace: () => {},
    silent: () => {},
    child: () => logger
  }
  return { logger: logger as unknown as FastifyBaseLogger, lines }
}

/** A port nothing listens on (it was free a moment ago). */
async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise(resolve => server.close(resolve))
  return port
}

function message (to: string, n = 1): MailMessage {
  return {
    to,
    subject: `Test message ${n}`,
    text: `Hello number ${n}\n`,
    html: `<p>Hello number ${n}</p>`
  }
}

t.test('a queued message arrives over SMTP with the sender, the subject, and both parts', async t => {
  const smtp = await startSmtpServer(t)
  const { logger, lines } = captureLogger()
  const mailer = createMailer({ smtpUrl: smtp.url, from: FROM, retryDelaysMs: [], logger })
  t.teardown(() => mailer.close())

  const link = linkWithToken('https://app.example/verify?lang=en', 'tok_123')
  const mail = verifyEmailMail('ada', link, 48 * 3600)
  t.equal(mailer.send({ to: 'ada@example.com', ...mail }), undefined, 'send returns nothing to wait for')
  t.equal(smtp.messages.length, 0, 'send only queues the message')

  const received = await smtp.waitForMail(m => m.to.includes('ada@example.com'))
  t.same(received.to, ['ada@example.com'])
  t.equal(received.envelopeFrom, 'no-reply@portcullis.test')
  t.same(received.from, { name: 'Portcullis', address: 'no-reply@portcullis.test' })
  t.equal(received.subject, 'Confirm your email address')
  t.match(received.text, 'Hello ada,')
  t.match(received.text, 'expires in 48 hours')
  t.match(received.html, /^<!doctype html>/)
  t.same(mailLink(received), { link, token: 'tok_123' })

  await mailer.close()
  const sent = lines.filter(l => l.msg === 'mail sent')
  t.equal(sent.length, 1)
  t.equal(sent[0].level, 'info')
  t.equal(sent[0].obj.attempt, 1)
  t.equal(sent[0].obj.mailTo, 'ada@example.com')
  t.notOk(JSON.stringify(lines).includes('tok_123'), 'the token is not logged when mail goes over SMTP')
})

t.test('close() waits for every queued message before it resolves', async t => {
  const smtp = await startSmtpServer(t)
  const { logger } = captureLogger()
  const mailer = createMailer({ smtpUrl: smtp.url, from: FROM, retryDelaysMs: [], logger })
  for (let n = 1; n <= 3; n++) mailer.send(message(`user${n}@example.com`, n))
  await mailer.close()
  t.equal(smtp.messages.length, 3, 'all three arrived before close() resolved')
  t.same(smtp.messages.map(m => m.subject).sort(), ['Test message 1', 'Test message 2', 'Test message 3'])
})

t.test('a message is retried while the server is down and delivered once it is up', async t => {
  const port = await freePort()
  let started: Promise<SmtpSink> | undefined
  const { logger, lines } = captureLogger(line => {
    // The server comes up only after the first attempt has failed.
    if (line.level === 'warn') started ??= startSmtpServer(t, { port })
  })
  // Many short retries: the server needs a moment to start, however long that takes here.
  const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, from: FROM, retryDelaysMs: Array(100).fill(50), logger })
  t.teardown(() => mailer.close())

  mailer.send(message('late@example.com'))
  await mailer.close()
  t.ok(started, 'the first attempt failed')
  const smtp = await (started as Promise<SmtpSink>)
  t.equal(smtp.mailsTo('late@example.com').length, 1, 'delivered exactly once')

  const failures = lines.filter(l => l.level === 'warn')
  t.ok(failures.length >= 1)
  t.equal(failures[0].msg, 'mail delivery failed; will retry')
  t.equal(failures[0].obj.attempt, 1)
  t.equal(failures[0].obj.retryInMs, 50)
  t.equal(failures[0].obj.mailTo, 'late@example.com')
  t.ok(failures[0].obj.err instanceof Error, 'the failure is logged with its error')
  const sent = lines.filter(l => l.msg === 'mail sent')
  t.equal(sent.length, 1)
  t.equal(sent[0].obj.attempt, failures.length + 1, 'sent on the attempt after the last failure')
  t.equal(lines.filter(l => l.level === 'error').length, 0, 'nothing was given up')
})

t.test('after the configured retries the mailer gives up and logs an error', async t => {
  const port = await freePort()
  const { logger, lines } = captureLogger()
  const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, from: FROM, retryDelaysMs: [5, 10], logger })
  t.doesNotThrow(() => mailer.send(message('nobody@example.com')), 'an undeliverable message does not throw')
  await mailer.close()

  const warnings = lines.filter(l => l.level === 'warn')
  t.same(warnings.map(l => [l.obj.attempt, l.obj.retryInMs]), [[1, 5], [2, 10]], 'one retry per configured delay')
  const errors = lines.filter(l => l.level === 'error')
  t.equal(errors.length, 1)
  t.equal(errors[0].msg, 'mail could not be delivered; giving up')
  t.equal(errors[0].obj.attempts, 3)
  t.equal(errors[0].obj.mailTo, 'nobody@example.com')
  t.equal(errors[0].obj.subject, 'Test message 1')
  t.ok(errors[0].obj.err instanceof Error)
  t.equal(lines.filter(l => l.msg === 'mail sent').length, 0)
})

t.test('with no retry delays a failed message is given up after one attempt', async t => {
  const port = await freePort()
  const { logger, lines } = captureLogger()
  const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, from: FROM, retryDelaysMs: [], logger })
  mailer.send(message('nobody@example.com'))
  await mailer.close()
  t.equal(lines.filter(l => l.level === 'warn').length, 0)
  const errors = lines.filter(l => l.level === 'error')
  t.equal(errors.length, 1)
  t.equal(errors[0].obj.attempts, 1)
})

t.test('close() stops waiting for a message that is still being retried after its timeout', async t => {
  const port = await freePort()
  const { logger, lines } = captureLogger()
  const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, from: FROM, retryDelaysMs: [60_000], logger })
  mailer.send(message('nobody@example.com'))
  await mailer.close(50)
  t.equal(lines.filter(l => l.level === 'error').length, 0, 'the message was not given up, only no longer waited for')
})

t.test('without SMTP_URL the console backend logs the sender, recipient, subject and text with the link', async t => {
  const { logger, lines } = captureLogger()
  const mailer = createMailer({ from: FROM, retryDelaysMs: [5], logger })
  const link = linkWithToken('http://portcullis.test/api/auth/verify-email', 'tok_console')
  mailer.send({ to: 'ada@example.com', ...verifyEmailMail('ada', link, 48 * 3600) })
  await mailer.close()

  t.equal(lines.length, 1)
  const [line] = lines
  t.equal(line.level, 'info')
  t.equal(line.msg, 'mail (console backend): Confirm your email address')
  const logged = line.obj.mail as Record<string, string>
  t.equal(logged.from, FROM)
  t.equal(logged.to, 'ada@example.com')
  t.equal(logged.subject, 'Confirm your email address')
  t.match(logged.text, 'Hello ada,')
  t.match(logged.text, `Confirm my email address: ${link}`, 'the text, with the link, is readable in the log')
  t.equal(link, 'http://portcullis.test/api/auth/verify-email?token=tok_console')
  t.notOk('html' in logged, 'the HTML part is left out of the log')
})

t.test('the mail says how long its link works, never rounding up', async t => {
  const link = 'https://app.example/verify?token=x'
  t.match(verifyEmailMail('ada', link, 48 * 3600).text, 'expires in 48 hours.')
  t.match(verifyEmailMail('ada', link, 3600).text, 'expires in 1 hour.')
  t.match(resetPasswordMail('ada', link, 30 * 60).text, 'expires in 30 minutes.')
  t.match(resetPasswordMail('ada', link, 90 * 60).text, 'expires in 90 minutes.')
  t.match(resetPasswordMail('ada', link, 60).html, 'expires in 1 minute.')
})

t.test('a message the server refuses for now (451) is retried and delivered', async t => {
  const smtp = await startSmtpServer(t)
  smtp.refuse(2)
  const { logger, lines } = captureLogger()
  const mailer = createMailer({ smtpUrl: smtp.url, from: FROM, retryDelaysMs: [5, 5, 5], logger })
  mailer.send(message('ada@example.com'))
  await mailer.close()
  t.equal(smtp.mailsTo('ada@example.com').length, 1, 'delivered once')
  const warnings = lines.filter(l => l.level === 'warn')
  t.same(warnings.map(l => l.obj.attempt), [1, 2])
  t.match(String(warnings[0].obj.err), /451|Try again later/)
  t.same(lines.filter(l => l.msg === 'mail sent').map(l => l.obj.attempt), [3])
})

t.test('a message the server keeps refusing is given up after the retries', async t => {
  const smtp = await startSmtpServer(t)
  smtp.refuse(100)
  const { logger, lines } = captureLogger()
  const mailer = createMailer({ smtpUrl: smtp.url, from: FROM, retryDelaysMs: [5], logger })
  mailer.send(message('ada@example.com'))
  await mailer.close()
  t.equal(smtp.messages.length, 0)
  t.same(lines.map(l => l.level), ['warn', 'error'])
  t.equal(lines[1].obj.attempts, 2)
})
