// Owns the mailer: SMTP when SMTP_URL is set, the log otherwise; pending mails are flushed on close.
import fp from 'fastify-plugin'
import { createMailer, type Mailer } from '../src/mail/mailer.js'

declare module 'fastify' {
  interface FastifyInstance {
    mailer: Mailer
  }
}

export default fp(async function mailer (fastify) {
  const { config } = fastify
  const instance = createMailer({
    smtpUrl: config.smtpUrl,
    from: config.mailFrom,
    retryDelaysMs: config.mailRetryDelays,
    logger: fastify.log.child({ component: 'mailer' })
  })
  if (config.smtpUrl === undefined) {
    fastify.log.warn('SMTP_URL is not set: mails, with their links, are written to the log (development only)')
  }
  fastify.decorate('mailer', instance)
  fastify.addHook('onClose', async () => {
    // Background tasks may still queue mails: let them finish first.
    await fastify.background.drain()
    await instance.close()
  })
}, { name: 'mailer', dependencies: ['config', 'background'] })
