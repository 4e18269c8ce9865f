// What the numbers were measured on: commit, CPU, load, and the filesystem the database fsyncs to.
import { execFileSync } from 'node:child_process'
import { statfsSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'

export interface Machine {
  commit: string
  node: string
  cpu: string
  cores: number
  /** 1-minute load average when the bench started: a busy shared machine shows here. */
  loadAverage: number
  /** The database runs with synchronous=FULL, so logins and refreshes cost an fsync each: tmpfs would flatter them. */
  databaseFilesystem: string
}

const FILESYSTEMS: Record<number, string> = {
  0x01021994: 'tmpfs',
  0xef53: 'ext2/3/4',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x794c7630: 'overlayfs',
  0x2fc12fc1: 'zfs'
}

function commit (cwd: string): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== ''
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? '+dirty' : ''}`
  } catch {
    return 'unknown'
  }
}

export function describeMachine (root: string, databaseDir: string, cores: number): Machine {
  let databaseFilesystem = 'unknown'
  try {
    const type = statfsSync(databaseDir).type
    databaseFilesystem = FILESYSTEMS[type] ?? `0x${type.toString(16)}`
  } catch {}
  return {
    commit: commit(root),
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores,
    loadAverage: loadavg()[0],
    databaseFilesystem
  }
}
