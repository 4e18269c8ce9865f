// Sends mail in the background with retries, over SMTP (nodemailer) or, with no SMTP_URL, to the log.
// A request that causes a mail never waits for it and never fails because of it.
import type { Transporter } from 'nodemailer'
import type { FastifyBaseLogger } from 'fastify'
import { settleWithin } from '../runtime/settle-within.js'

export interface MailMessage {
  to: string
  subject: string
  text: string
  html: string
}

export interface Mailer {
  /** Queues the message and returns at once; delivery failures are retried, then logged. */
  send (message: MailMessage): void
  /** Waits for queued messages (at most `timeoutMs`), then closes the transport. */
  close (timeoutMs?: number): Promise<void>
}

export interface MailerOptions {
  smtpUrl?: string
  from: string
  /** Delays before each retry; the number of entries is the number of retries. */
  retryDelaysMs: number[]
  logger: FastifyBaseLogger
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms).unref())

export function createMailer (options: MailerOptions): Mailer {
  const { logger } = options
  const { smtpUrl } = options
  // nodemailer (~3 MiB of heap) is loaded only with an SMTP_URL: the console backend never needs it.
  const transport: Promise<Transporter> | undefined = smtpUrl === undefined
    ? undefined
    : import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport(smtpUrl, { from: options.from }))
  // Awaited by each delivery (which logs a failure); this only keeps a failed load from being unhandled.
  transport?.catch(() => {})
  const pending = new Set<Promise<void>>()

  async function deliver (message: MailMessage): Promise<void> {
    if (transport === undefined) {
      // Like Django's console email backend: readable in the log, for development. It includes the
      // link (and so the token): configure SMTP_URL anywhere that matters.
      logger.info({ mail: { from: options.from, to: message.to, subject: message.subject, text: message.text } }, `mail (console backend): ${message.subject}`)
      return
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await (await transport).sendMail({ from: options.from, ...message })
        logger.info({ mailTo: message.to, subject: message.subject, attempt: attempt + 1 }, 'mail sent')
        return
      } catch (err) {
        const delay = options.retryDelaysMs[attempt]
        if (delay === undefined) {
          logger.error({ err, mailTo: message.to, subject: message.subject, attempts: attempt + 1 }, 'mail could not be delivered; giving up')
          return
        }
        logger.warn({ err, mailTo: message.to, subject: message.subject, attempt: attempt + 1, retryInMs: delay }, 'mail delivery failed; will retry')
        await sleep(delay)
      }
    }
  }

  return {
    send (message) {
      const job = deliver(message).catch(err => logger.error({ err }, 'mail delivery crashed'))
      pending.add(job)
      job.finally(() => pending.delete(job)).catch(() => {})
    },
    async close (timeoutMs = 10_000) {
      await settleWithin(pending, timeoutMs)
      await transport?.then(t => t.close(), () => {})
    }
  }
}
