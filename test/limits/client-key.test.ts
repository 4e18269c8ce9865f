import t from 'tap'
import { clientKey } from '../../src/limits/client-key.js'

t.test('an IPv4 address is its own key, however the socket spelled it', async t => {
  t.equal(clientKey('192.0.2.77'), '192.0.2.77')
  t.equal(clientKey('::ffff:192.0.2.77'), '192.0.2.77', 'IPv4-mapped (dual-stack socket)')
  t.equal(clientKey('::FFFF:c000:024d'), '192.0.2.77', 'IPv4-mapped in hex, upper case')
  t.equal(clientKey('::ffff:192.0.2.77', 128), '192.0.2.77', 'whatever the IPv6 prefix')
})

t.test('an IPv6 address counts by its /64 unless configured otherwise', async t => {
  t.equal(clientKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64')
  t.equal(clientKey('2001:0DB8:0001:0002:ffff::1'), '2001:db8:1:2::/64', 'any spelling of the same network')
  t.not(clientKey('2001:db8:1:3::1'), clientKey('2001:db8:1:2::1'), 'the next /64 is another client')
  t.equal(clientKey('2001:db8:1:2:3:4:5:6', 48), '2001:db8:1::/48')
  t.equal(clientKey('2001:db8:1:2:3:4:5:6', 56), '2001:db8:1::/56')
  t.equal(clientKey('2001:db8:1:2:3:4:5:6', 128), '2001:db8:1:2:3:4:5:6', '128: every address apart')
  t.equal(clientKey('2001:0db8::0001', 128), '2001:db8::1', 'in RFC 5952 form')
  t.equal(clientKey('fe80::1%eth0'), 'fe80::/64', 'without the zone id')
  t.equal(clientKey('::1'), '::/64')
})

t.test('anything that is not an address is its own key', async t => {
  t.equal(clientKey('unknown'), 'unknown')
  t.equal(clientKey('127.1'), '127.1', 'loose IPv4 forms are not read as addresses')
  t.equal(clientKey(''), '')
})
