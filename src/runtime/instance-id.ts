// This process's name among the instances sharing a database: recorded with the background jobs it
// claims, so an operator can tell which instance ran what.
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'

/** Host and pid say where to look; the random part tells apart a restarted process that got the same pid (containers). */
export const instanceId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
