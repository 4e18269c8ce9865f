// Every JWT_KEY_RELOAD_INTERVAL: rotates the key when JWT_KEY_ROTATION_INTERVAL says it is due,
// deletes keys that left the JWKS, and re-reads the ring so that rotations made elsewhere (the CLI,
// another server process) take effect here without a restart.
import fp from 'fastify-plugin'
import { keySource, keyTimes, rotateIfDue } from '../src/keys/rotation.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** One maintenance pass, as the timer runs it; errors are logged, not thrown. */
    maintainKeys (): Promise<void>
  }
}

export default fp(async function keyMaintenance (fastify) {
  const { config, keyRing } = fastify
  const deps = fastify.auth
  const { retentionMs } = keyTimes(config)
  const stored = config.jwtAlgorithm !== 'HS256'

  async function maintain (): Promise<void> {
    if (!stored) return
    if (config.jwtKeyRotationInterval > 0 && keySource(config) === 'database') {
      // Every instance may find the key due at once: the repository serialises rotations (SQLite's
      // write lock, PostgreSQL's advisory lock) and re-checks the newest key's age inside, so one
      // key is made. No job claim here: it would cost a write on every pass to spare, once per rotation
      // interval, the other instances one key generation each.
      const rotated = await rotateIfDue(deps, config.jwtKeyRotationInterval)
      if (rotated !== undefined) fastify.log.info({ kid: rotated.kid, signsFrom: rotated.signsFrom, retired: rotated.retired }, 'rotated the signing key')
    }
    // Keys past their publication window are never accepted again: their private keys can go.
    // Checked in memory first, so that a quiet pass writes nothing.
    const now = deps.now().getTime()
    if (keyRing.loaded.some(key => key.retiredAt !== null && key.retiredAt.getTime() + retentionMs <= now)) {
      await deps.repositories.signingKeys.deleteRetiredBefore(new Date(now - retentionMs))
    }
    await keyRing.reload()
  }

  let running: Promise<void> | undefined
  fastify.decorate('maintainKeys', () => {
    running ??= maintain()
      .catch(err => fastify.log.error({ err }, 'key maintenance failed'))
      .finally(() => { running = undefined })
    return running
  })

  const timer = setInterval(() => { fastify.maintainKeys().catch(() => {}) }, config.jwtKeyReloadInterval * 1000)
  timer.unref()
  fastify.addHook('onClose', async () => {
    clearInterval(timer)
    await running
  })
}, { name: 'key-maintenance', dependencies: ['keys', 'auth'] })
