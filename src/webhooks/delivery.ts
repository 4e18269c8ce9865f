// One delivery attempt: the Standard Webhooks request (signed with the `standardwebhooks` package),
// sent with a timeout, no redirects followed, to a public address only (unless WEBHOOK_ALLOW_PRIVATE).
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { Webhook } from 'standardwebhooks'
import type { ClaimedDelivery } from '../../db/repositories.js'
import { publicOnlyLookup } from './target.js'

/** The headers of a delivery: the event id as webhook-id (the same on every retry), the time of this attempt. */
export function signedHeaders (secret: string, eventId: string, payload: string, at: Date): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(eventId, at, payload)
  }
}

/** POSTs the delivery; resolves with undefined on a 2xx, else with what went wrong (for `last_error`). */
export async function attemptDelivery (delivery: ClaimedDelivery, options: { timeoutMs: number, allowPrivate: boolean, now: Date }): Promise<string | undefined> {
  const url = new URL(delivery.url)
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  if (url.protocol !== 'https:' && !options.allowPrivate) return 'the URL is not https'
  const headers = { ...signedHeaders(delivery.secret, delivery.eventId, delivery.payload, options.now), 'user-agent': 'Portcullis-Webhooks/1' }
  return new Promise(resolve => {
    const req = send(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(delivery.payload)) },
      timeout: options.timeoutMs,
      ...(!options.allowPrivate && { lookup: publicOnlyLookup as never })
    }, res => {
      // The body is not needed: drained so that the socket is freed.
      res.resume()
      const status = res.statusCode ?? 0
      if (status >= 200 && status < 300) return resolve(undefined)
      resolve(status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`)
    })
    // The whole attempt, not only idle time: a receiver trickling bytes cannot hold a slot for ever.
    const deadline = setTimeout(() => req.destroy(new Error(`timed out after ${options.timeoutMs} ms`)), options.timeoutMs)
    req.on('timeout', () => req.destroy(new Error(`timed out after ${options.timeoutMs} ms`)))
    req.on('error', err => resolve(err.message.slice(0, 500)))
    req.on('close', () => clearTimeout(deadline))
    req.end(delivery.payload)
  })
}

/** When the next attempt is due after `attempts` failed ones: the configured delay with ±20% jitter; null once they are used up (dead). */
export function nextAttemptAt (delays: number[], attempts: number, now: Date): Date | null {
  const delay = delays[attempts - 1]
  if (delay === undefined) return null
  const jitter = 0.8 + Math.random() * 0.4
  return new Date(now.getTime() + Math.round(delay * jitter))
}
