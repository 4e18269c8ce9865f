// `audit verify` and `audit export`: the audit log's tamper check and its stream, for operators.
import { auditExportLine } from '../audit/log.js'
import { verifyAudit } from '../audit/chain.js'
import { parseDuration } from '../runtime/durations.js'
import { CliError, parseCommandLine, UsageError, type Command } from './command.js'

const PAGE = 1000

/** An ISO date-time, or a duration back from now (7d, 12h). */
function parseSince (raw: string, now: Date): Date {
  const seconds = parseDuration(raw)
  if (seconds !== undefined) return new Date(now.getTime() - seconds * 1000)
  const date = new Date(raw)
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(date.getTime())) throw new UsageError(`--since must be a date-time (2026-01-31T00:00:00Z) or a duration back from now (7d); got "${raw}".`)
  return date
}

export const audit: Command = {
  name: 'audit',
  summary: 'Verify the audit log\'s hash chain, or export its entries.',
  help: `Usage: portcullis audit verify
       portcullis audit export [--since <when>] [--format jsonl|json]

verify   Walks the hash chain from the last prune checkpoint: every entry's hash must match its
         content and follow the previous entry's, seqs must run without a gap, and every signed
         checkpoint must carry a valid signature (with AUDIT_SIGNING_KEY set: the server's value)
         and match the entry at its seq. Prints the first edited, deleted, inserted or reordered
         entry and exits 1; prints how many entries were checked and exits 0 when all is well.
export   Streams the entries, oldest first, one JSON object per line (jsonl, the default) or as one
         JSON array (json): id, at, type, actor, subject, ip, user_agent, request_id, data, and the
         chain fields seq, prev_hash and hash.

Options:
  --since <when>   Only entries at or after it: a date-time (2026-01-31T00:00:00Z) or a duration
                   back from now (7d, 12h).
  --format <f>     jsonl (default) or json.
  -h, --help       Show this help.

Exit status: 0; 1 when the chain is broken or on a bad option; 66 when the database does not
exist; 78 when the configuration is not valid.
`,
  async run (args, cli) {
    const { values, positionals } = parseCommandLine(args, { since: { type: 'string' }, format: { type: 'string' } }, { required: ['subcommand'] })
    const [subcommand] = positionals
    if (subcommand === 'verify') {
      if (values.since !== undefined || values.format !== undefined) throw new UsageError('verify takes no options.')
      const deps = await cli.deps()
      const report = await verifyAudit(deps.repositories.audit, deps.config.auditSigningKey)
      if (!report.ok) throw new CliError(`the audit log does not verify: ${report.problem!.message} (after ${report.entries} good entries).`)
      cli.stdout.write(`The audit log verifies: ${report.entries} entries, ${report.checkpoints} checkpoints${report.signaturesChecked ? ' (signatures checked)' : ' (signatures not checked: AUDIT_SIGNING_KEY is not set)'}.\n`)
      return
    }
    if (subcommand !== 'export') throw new UsageError(`Unknown subcommand "${subcommand}": verify or export.`)
    const format = values.format ?? 'jsonl'
    if (format !== 'jsonl' && format !== 'json') throw new UsageError(`--format must be jsonl or json; got "${format}".`)
    const deps = await cli.deps()
    const since = values.since === undefined ? undefined : parseSince(values.since, deps.now())
    if (format === 'json') cli.stdout.write('[')
    let first = true
    let afterSeq: number | undefined
    // Page by page: the log may be large, the output streams.
    for (;;) {
      const page = await deps.repositories.audit.list({ ...(since !== undefined && { since }), ...(afterSeq !== undefined && { afterSeq }), limit: PAGE })
      for (const entry of page) {
        const line = JSON.stringify(auditExportLine(entry))
        cli.stdout.write(format === 'jsonl' ? `${line}\n` : `${first ? '\n' : ',\n'}${line}`)
        first = false
      }
      if (page.length < PAGE) break
      afterSeq = page[page.length - 1].seq
    }
    if (format === 'json') cli.stdout.write(first ? ']\n' : '\n]\n')
  }
}
