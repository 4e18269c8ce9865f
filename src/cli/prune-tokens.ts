// `prune-tokens`: what the server's background pruner does, all at once.
import { pruneSessions } from '../sessions.js'
import { parseCommandLine, UsageError, type Command } from './command.js'

export const DEFAULT_BATCH_SIZE = 500

/** Runs `step` until it deletes nothing; small batches keep each synchronous delete (and its lock) short. */
async function drain (step: () => Promise<number>): Promise<number> {
  let total = 0
  for (let deleted = await step(); deleted > 0; deleted = await step()) total += deleted
  return total
}

export const pruneTokens: Command = {
  name: 'prune-tokens',
  summary: 'Delete expired and revoked sessions and tokens.',
  help: `Usage: portcullis prune-tokens [--batch-size <n>]

Deletes, in batches until none are left, what the server's background pruner deletes:
  - expired sessions and refresh tokens, and sessions revoked more than ACCESS_TOKEN_TTL (plus
    a minute) ago (a session revoked more recently is kept while its access tokens may live);
  - used or expired one-time tokens (email verification and password reset).
Prints how many were deleted. Safe to run while the server runs.

Options:
  --batch-size <n>   Rows deleted per statement, 1 to 10000 (default ${DEFAULT_BATCH_SIZE}).
  -h, --help         Show this help.

Exit status: 0; 1 on a bad option; 78 when the configuration is not valid.
`,
  async run (args, cli) {
    const { values } = parseCommandLine(args, { 'batch-size': { type: 'string' } })
    const raw = values['batch-size']
    const batchSize = raw === undefined ? DEFAULT_BATCH_SIZE : /^\d+$/.test(raw) ? Number(raw) : NaN
    if (!(batchSize >= 1 && batchSize <= 10_000)) throw new UsageError(`--batch-size must be a whole number from 1 to 10000; got "${raw}".`)
    const deps = await cli.deps()
    const sessions = await drain(() => pruneSessions(deps, batchSize))
    const oneTime = await drain(() => deps.repositories.oneTimeTokens.prune(deps.now(), batchSize))
    cli.stdout.write(`Deleted ${sessions + oneTime}: ${sessions} expired or revoked sessions and refresh tokens, ${oneTime} used or expired one-time tokens.\n`)
  }
}
