// The audit log's tamper evidence: signed checkpoints (periodic, and before every prune) and the
// verification `portcullis audit verify` runs, which names the first entry that breaks the chain.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import type { AuditCheckpoint, AuditRepository } from '../../db/repositories.js'
import { GENESIS_HASH, entryHash } from '../../db/audit-chain.js'

/** The signature of a checkpoint: HMAC-SHA256 under AUDIT_SIGNING_KEY, a key kept outside the database; '' when none is configured. */
export function checkpointSignature (key: string | undefined, checkpoint: Omit<AuditCheckpoint, 'signature' | 'id'>): string {
  if (key === undefined) return ''
  const content = JSON.stringify(['portcullis-audit-checkpoint', checkpoint.seq, checkpoint.hash, checkpoint.at.getTime(), checkpoint.kind])
  return `hmac-sha256:${createHmac('sha256', key).update(content).digest('base64url')}`
}

export function newCheckpoint (key: string | undefined, at: Date, head: { seq: number, hash: string }, kind: AuditCheckpoint['kind']): AuditCheckpoint {
  const unsigned = { seq: head.seq, hash: head.hash, at, kind }
  return { id: randomUUID(), ...unsigned, signature: checkpointSignature(key, unsigned) }
}

/** Records a periodic checkpoint at the head, unless one is there already. */
export async function writeCheckpoint (audit: AuditRepository, key: string | undefined, at: Date): Promise<boolean> {
  const head = await audit.head()
  if (head.seq === 0) return false
  const latest = (await audit.checkpoints()).at(-1)
  if (latest !== undefined && latest.seq >= head.seq) return false
  await audit.addCheckpoint(newCheckpoint(key, at, head, 'periodic'))
  return true
}

/**
 * Deletes at most `batchSize` of the oldest entries recorded before `before`, with a signed prune
 * checkpoint at the last one deleted: verification starts from it, so the chain still checks out.
 */
export async function pruneAudit (audit: AuditRepository, key: string | undefined, before: Date, at: Date, batchSize: number): Promise<number> {
  const boundary = await audit.pruneBoundary(before, batchSize)
  if (boundary === undefined) return 0
  return audit.pruneThrough(newCheckpoint(key, at, boundary, 'prune'))
}

export interface VerifyReport {
  ok: boolean
  /** Entries checked. */
  entries: number
  checkpoints: number
  /** Whether the checkpoints' signatures could be checked (AUDIT_SIGNING_KEY given). */
  signaturesChecked: boolean
  /** The first problem, naming the entry (seq) where the chain breaks. */
  problem?: { seq: number, message: string }
}

const PAGE = 1000

function sameSignature (a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))
}

/**
 * Walks the chain from the last prune checkpoint (or the first entry ever): every entry's hash must be
 * its content's, follow the previous entry's, and seqs must run without a gap; every checkpoint must
 * carry a valid signature and match the entry at its seq; none may lie beyond the last entry.
 * Reports the first problem: an edited entry (its hash), a deleted one (a gap, or a checkpoint past
 * the end), an inserted or reordered one (a link that does not follow).
 */
export async function verifyAudit (audit: AuditRepository, key: string | undefined): Promise<VerifyReport> {
  const checkpoints = await audit.checkpoints()
  const report: VerifyReport = { ok: true, entries: 0, checkpoints: checkpoints.length, signaturesChecked: key !== undefined }
  const fail = (seq: number, message: string): VerifyReport => ({ ...report, ok: false, problem: { seq, message } })

  for (const checkpoint of checkpoints) {
    if (key === undefined) continue
    if (!sameSignature(checkpoint.signature, checkpointSignature(key, checkpoint))) {
      return fail(checkpoint.seq, `the ${checkpoint.kind} checkpoint at seq ${checkpoint.seq} has no valid signature (edited, or signed with another AUDIT_SIGNING_KEY)`)
    }
  }
  const prunes = checkpoints.filter(c => c.kind === 'prune')
  const start = prunes.at(-1)
  let previous = { seq: start?.seq ?? 0, hash: start?.hash ?? GENESIS_HASH }
  const atSeq = new Map<number, AuditCheckpoint[]>()
  for (const checkpoint of checkpoints) atSeq.set(checkpoint.seq, [...(atSeq.get(checkpoint.seq) ?? []), checkpoint])

  for (let page = await audit.list({ limit: PAGE }); page.length > 0; page = await audit.list({ afterSeq: previous.seq, limit: PAGE })) {
    for (const entry of page) {
      if (entry.seq <= previous.seq) return fail(entry.seq, `entry ${entry.seq} lies before the last prune checkpoint (seq ${previous.seq}): inserted`)
      if (entry.seq !== previous.seq + 1) {
        return fail(previous.seq + 1, `entry ${previous.seq + 1} is missing${entry.seq - previous.seq > 2 ? ` (and up to ${entry.seq - 1})` : ''}: deleted`)
      }
      if (entryHash(entry.prevHash, entry) !== entry.hash) return fail(entry.seq, `entry ${entry.seq} does not match its hash: edited`)
      if (entry.prevHash !== previous.hash) {
        return fail(entry.seq, `entry ${entry.seq} does not follow entry ${previous.seq}: an entry was edited, inserted, deleted or reordered here`)
      }
      for (const checkpoint of atSeq.get(entry.seq) ?? []) {
        if (checkpoint.hash !== entry.hash) return fail(entry.seq, `entry ${entry.seq} differs from the signed checkpoint at its seq: rewritten`)
      }
      previous = { seq: entry.seq, hash: entry.hash }
      report.entries++
    }
  }
  const beyond = checkpoints.filter(c => c.seq > previous.seq)
  if (beyond.length > 0) return fail(previous.seq + 1, `entries ${previous.seq + 1} to ${beyond.at(-1)!.seq} are missing (a checkpoint was signed at seq ${beyond.at(-1)!.seq}): deleted`)
  const head = await audit.head()
  if (head.seq !== previous.seq || head.hash !== previous.hash) {
    return fail(previous.seq + 1, `the chain's head is at seq ${head.seq} but the last entry is ${previous.seq}: entries deleted at the end`)
  }
  return report
}

/**
 * One maintenance pass of the background pruner: entries older than AUDIT_RETENTION go (in batches,
 * each with its prune checkpoint), then a periodic checkpoint is signed at the head.
 */
export async function auditMaintenance (deps: { repositories: { audit: AuditRepository }, config: { auditRetention: number, auditSigningKey?: string }, now (): Date }, batchSize: number, maxBatches: number): Promise<number> {
  const { audit } = deps.repositories
  const now = deps.now()
  let pruned = 0
  if (deps.config.auditRetention > 0) {
    const before = new Date(now.getTime() - deps.config.auditRetention * 1000)
    for (let batch = 0; batch < maxBatches; batch++) {
      const deleted = await pruneAudit(audit, deps.config.auditSigningKey, before, now, batchSize)
      pruned += deleted
      if (deleted < batchSize) break
    }
  }
  await writeCheckpoint(audit, deps.config.auditSigningKey, now)
  return pruned
}
