// A local fake of the Pwned Passwords range API, for the breached-password check's tests.
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

type Handler = (request: IncomingMessage, response: ServerResponse) => void

/** A fake range API on a loopback port; every request it gets is recorded. */
export async function fakeRangeApi (t: { teardown (fn: () => unknown): void }, handler: Handler) {
  const requests: IncomingMessage[] = []
  const server = createServer((request, response) => { requests.push(request); handler(request, response) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise(resolve => { server.closeAllConnections(); server.close(resolve) }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}

export const sha1 = (password: string) => createHash('sha1').update(password).digest('hex').toUpperCase()

/** A range answer listing `breached` (when its prefix is asked) among padding lines, as the real API does. */
export function rangeAnswer (breached: string[]): Handler {
  return (request, response) => {
    const prefix = request.url?.split('/range/')[1] ?? ''
    const lines = ['0018A45C4D1DEF81644B54AB7F969B88D65:0', '00D4F6E8FA6EECAD2A3AA415EEC418D38EC:2']
    for (const password of breached) {
      const digest = sha1(password)
      if (digest.startsWith(prefix)) lines.push(`${digest.slice(5).toLowerCase()}:17\r`)
    }
    response.end(lines.join('\n'))
  }
}
