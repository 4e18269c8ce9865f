// webhooks/: subscriptions, the delivery of the outbox (signed, retried, ordered) and the rules on targets.
// Where a webhook may point: https and public addresses, checked when the URL is given and again at
// every delivery, after DNS resolution, on the very addresses the connection then uses.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { BlockList, isIP } from 'node:net'
import { errors } from '../errors.js'

// Private, loopback, link-local, shared, multicast, reserved and documentation ranges: nothing a
// public receiver is reached at (IPv4-mapped IPv6 addresses are checked as their IPv4 address).
const refused = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4]
] as const) refused.addSubnet(network, prefix, 'ipv4')
for (const [network, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]
] as const) refused.addSubnet(network, prefix, 'ipv6')

export function isPublicAddress (address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped !== null) return !refused.check(mapped[1], 'ipv4')
  const family = isIP(address)
  if (family === 0) return false
  return !refused.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/** The URL as stored: https (or http with WEBHOOK_ALLOW_PRIVATE), no credentials, no fragment; a literal private address refused. */
export function checkWebhookUrl (raw: string, allowPrivate: boolean): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw errors.validation([{ field: 'url', message: 'is not a URL' }])
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) throw errors.validation([{ field: 'url', message: 'must be https' }])
  if (url.username !== '' || url.password !== '') throw errors.validation([{ field: 'url', message: 'must not carry credentials (sign with the secret instead)' }])
  if (url.hash !== '') throw errors.validation([{ field: 'url', message: 'must not have a fragment' }])
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (!allowPrivate && (isIP(host) !== 0 ? !isPublicAddress(host) : host === 'localhost' || host.endsWith('.localhost'))) {
    throw errors.validation([{ field: 'url', message: 'must be a public address (private, loopback and link-local targets are refused)' }])
  }
  return url.toString()
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * A `lookup` for http.request that resolves the name and refuses the connection unless every
 * address is public: the check and the connection use the same answer, so a name that resolves to
 * a public address for a check and to 127.0.0.1 for the connection (DNS rebinding) gets nowhere.
 */
export function publicOnlyLookup (hostname: string, options: { all?: boolean }, callback: LookupCallback): void {
  dnsLookup(hostname, { all: true }, (err, addresses) => {
    if (err !== null) return callback(err, [])
    const bad = addresses.find(entry => !isPublicAddress(entry.address))
    if (bad !== undefined) {
      const refusal = Object.assign(new Error(`${hostname} resolves to ${bad.address}, not a public address`), { code: 'EWEBHOOKPRIVATE' })
      return callback(refusal, [])
    }
    if (options.all === true) return callback(null, addresses)
    callback(null, addresses[0].address, addresses[0].family)
  })
}
