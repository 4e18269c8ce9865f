// A loopback port for a server a test starts itself.
import { once } from 'node:events'
import { createServer } from 'node:net'

/** A local port that was free a moment ago (the OS gave it out, and it was closed again). */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}
