// The key a client address counts under in every per-address limit.
import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'

/** The default IPv6 prefix: a /64 is what one subscriber (one home, one VM) usually gets. */
export const DEFAULT_IPV6_PREFIX = 64

/**
 * An IPv4 address as it is (`::ffff:192.0.2.77` is read as `192.0.2.77`: a dual-stack socket reports
 * IPv4 clients that way, and the two spellings must not count as two clients); an IPv6 address as
 * its network of `ipv6Prefix` bits, in RFC 5952 form with the prefix (`2001:db8:1:2::/64`): one
 * subscriber holds a whole /64 and could otherwise take a fresh address, and a fresh count, per
 * request. A value that is not an address (none should reach here) is its own key.
 */
export function clientKey (address: string, ipv6Prefix: number = DEFAULT_IPV6_PREFIX): string {
  // net.isIP is strict; ipaddr.js alone would also read loose forms such as `127.1`.
  const family = isIP(address)
  if (family === 0) return address
  const parsed = ipaddr.parse(address)
  if (parsed.kind() === 'ipv4') return parsed.toString()
  const v6 = parsed as ipaddr.IPv6
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString()
  const bare = new ipaddr.IPv6(v6.parts) // without a zone id (`fe80::1%eth0`)
  if (ipv6Prefix >= 128) return bare.toRFC5952String()
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${bare.toString()}/${ipv6Prefix}`)
  return `${network.toRFC5952String()}/${ipv6Prefix}`
}
