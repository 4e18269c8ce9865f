// `prune-tokens`: what the server's background pruner does, all at once.
import { pruneAll, totalPruned } from '../maintenance/pruning.js'
import { parseCommandLine, UsageError, type Command } from './command.js'

export const DEFAULT_BATCH_SIZE = 500

export const pruneTokens: Command = {
  name: 'prune-tokens',
  summary: 'Delete expired and revoked sessions and tokens.',
  help: `Usage: portcullis prune-tokens [--batch-size <n>]

Deletes, in batches until none are left, what the server's background pruner deletes:
  - expired sessions and refresh tokens, and sessions revoked more than ACCESS_TOKEN_TTL (plus
    a minute) ago (a session revoked more recently is kept while its access tokens may live);
  - used or expired one-time tokens (email verification and password reset);
  - revocation-feed events and denylisted client tokens older than any live access token;
  - social logins abandoned at the provider (their 10-minute state expired).
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
    const counts = await pruneAll(deps, batchSize)
    cli.stdout.write(`Deleted ${totalPruned(counts)}: ${counts.sessions} expired or revoked sessions and refresh tokens, ` +
      `${counts.oneTimeTokens} used or expired one-time tokens, ${counts.revocations} old revocations, ${counts.socialStates} abandoned social logins, ${counts.mfaChallenges} used or expired MFA tokens, ${counts.djangoRefreshTokens} expired Django refresh tokens, ${counts.webhookDeliveries} old webhook deliveries.\n`)
  }
}
