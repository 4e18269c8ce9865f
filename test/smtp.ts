// startSmtpServer(t): a real SMTP server on 127.0.0.1 that keeps every message it receives, parsed;
// and serve(app), to drive the app over real HTTP in the flows that end in a mail.
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { SMTPServer, type SMTPServerSession } from 'smtp-server'
import { simpleParser, type ParsedMail } from 'mailparser'

export interface ReceivedMail {
  /** Position in the order of arrival, from 0. */
  index: number
  /** The envelope recipients (RCPT TO), lower-cased. */
  to: string[]
  /** The envelope sender (MAIL FROM). */
  envelopeFrom: string
  /** The From header's display name and address. */
  from: { name: string, address: string }
  subject: string
  text: string
  html: string
  parsed: ParsedMail
}

export interface SmtpSink {
  /** smtp://127.0.0.1:<port>, for SMTP_URL. */
  url: string
  port: number
  /** Every message received so far, in order of arrival. */
  messages: ReceivedMail[]
  /** The messages sent to `address`. */
  mailsTo (address: string): ReceivedMail[]
  /**
   * The first received message (already here or still to come) that matches. No deadline fails the
   * wait (a busy machine can be slow): after `reportAfterMs` a line on stderr lists what did arrive.
   */
  waitForMail (predicate: (mail: ReceivedMail) => boolean, reportAfterMs?: number): Promise<ReceivedMail>
  /** Answers the next `count` messages with a temporary failure (451) instead of accepting them. */
  refuse (count: number): void
  /** Leaves messages unacknowledged (the sender keeps waiting) until release(). */
  hold (): void
  /** Acknowledges and records the held messages, and stops holding. */
  release (): void
  close (): Promise<void>
}

interface Teardown { teardown (fn: () => unknown): void }

export interface SmtpOptions {
  /** Listen on this port instead of an ephemeral one (to bring a server up where a client already points). */
  port?: number
}

export async function startSmtpServer (t: Teardown, options: SmtpOptions = {}): Promise<SmtpSink> {
  const messages: ReceivedMail[] = []
  const waiters = new Set<(mail: ReceivedMail) => void>()
  let refusals = 0
  let holding = false
  const held: Array<() => void> = []

  function accept (parsed: ParsedMail, session: SMTPServerSession) {
    const mail: ReceivedMail = {
      index: messages.length,
      to: session.envelope.rcptTo.map(a => a.address.toLowerCase()),
      envelopeFrom: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
      from: { name: parsed.from?.value[0]?.name ?? '', address: parsed.from?.value[0]?.address ?? '' },
      subject: parsed.subject ?? '',
      text: parsed.text ?? '',
      html: typeof parsed.html === 'string' ? parsed.html : '',
      parsed
    }
    messages.push(mail)
    for (const waiter of [...waiters]) waiter(mail)
  }

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    hideSTARTTLS: true,
    logger: false,
    onData (stream, session, callback) {
      // The message is recorded before the server acknowledges it, so once sendMail() resolves the
      // message is in `messages`.
      simpleParser(stream).then(parsed => {
        if (refusals > 0) {
          refusals -= 1
          callback(Object.assign(new Error('Try again later'), { responseCode: 451 }))
          return
        }
        const finish = () => {
          accept(parsed, session)
          callback()
        }
        if (holding) held.push(finish)
        else finish()
      }, (err: Error) => callback(err))
    }
  })

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.server.off('error', reject)
      resolve()
    })
  })
  const port = (server.server.address() as AddressInfo).port

  const release = () => {
    holding = false
    for (const finish of held.splice(0)) finish()
  }
  let closed: Promise<void> | undefined
  const close = () => {
    // Held messages are let go, or their connections would keep the server from closing.
    release()
    closed ??= new Promise<void>(resolve => server.close(() => resolve()))
    return closed
  }
  t.teardown(close)

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    mailsTo (address) {
      return messages.filter(m => m.to.includes(address.toLowerCase()))
    },
    waitForMail (predicate, reportAfterMs = 10_000) {
      const found = messages.find(predicate)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          process.stderr.write(`# still waiting for a matching mail after ${reportAfterMs} ms; received: ${JSON.stringify(messages.map(m => ({ to: m.to, subject: m.subject })))}\n`)
        }, reportAfterMs)
        timer.unref()
        const waiter = (mail: ReceivedMail) => {
          if (!predicate(mail)) return
          clearTimeout(timer)
          waiters.delete(waiter)
          resolve(mail)
        }
        waiters.add(waiter)
      })
    },
    refuse (count) { refusals += count },
    hold () { holding = true },
    release,
    close
  }
}

function decodeHtmlAttribute (value: string): string {
  return value.replace(/&(amp|lt|gt|quot|#39);/g, (_, entity: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[entity] as string)
}

/** The links carrying `token=` in each part of the mail: the text part's URLs and the HTML part's hrefs. */
export function tokenLinks (mail: ReceivedMail): { text: string[], html: string[] } {
  const text = (mail.text.match(/https?:\/\/\S+/g) ?? []).filter(link => new URL(link).searchParams.has('token'))
  const html = [...mail.html.matchAll(/href="([^"]*)"/g)].map(m => decodeHtmlAttribute(m[1])).filter(link => new URL(link).searchParams.has('token'))
  return { text, html }
}

/** The one link of the mail (it must be the same in both parts) and its token. */
export function mailLink (mail: ReceivedMail): { link: string, token: string } {
  const { text, html } = tokenLinks(mail)
  const links = new Set([...text, ...html])
  if (text.length === 0 || html.length === 0 || links.size !== 1) {
    throw new Error(`expected one token link in both parts, got text ${JSON.stringify(text)} and html ${JSON.stringify(html)}`)
  }
  const [link] = links
  return { link, token: new URL(link).searchParams.get('token') as string }
}

export interface Answer {
  status: number
  headers: Headers
  body: any
}

/** Listens on an ephemeral port and returns JSON helpers that talk to the app over real HTTP. */
export async function serve (app: FastifyInstance) {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  async function request (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(base + path, {
      method,
      headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) })
    })
    const text = await res.text()
    return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) }
  }
  return {
    base,
    get: (path: string, headers?: Record<string, string>) => request('GET', path, undefined, headers),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => request('POST', path, body, headers),
    /** Follows a link from a mail to this server, whatever host the link names. */
    follow: (link: string) => {
      const url = new URL(link)
      return request('GET', url.pathname + url.search)
    }
  }
}
