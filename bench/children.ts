// The servers under test as child processes: spawn, wait until they answer, read their memory, always kill.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

export interface Child {
  name: string
  process: ChildProcess
  pid: number
  /** The last lines the child wrote (stdout and stderr), for an error message. */
  tail (): string
  /** How many log lines at warn level or above the child wrote (pino JSON: level ≥ 40). */
  warnings (): number
  exited: Promise<number | null>
}

const children = new Set<Child>()
const TAIL_LINES = 30

export function spawnChild (name: string, args: string[], options: { cwd: string, env: Record<string, string> }): Child {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    // The bench's own environment minus anything the server reads, so that a stray variable
    // (a DATABASE_URL in the shell) cannot point the service elsewhere.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  if (child.pid === undefined) throw new Error(`${name} did not start`)
  const lines: string[] = []
  let warnings = 0
  let partial = ''
  // Drained even when nobody reads the tail: a full pipe would block the child's logger.
  const collect = (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8')
    const parts = text.split('\n')
    partial = parts.pop() ?? ''
    for (const line of parts) {
      if (/"level":\s*([4-9]\d)/.test(line)) warnings++
      lines.push(line)
      if (lines.length > TAIL_LINES) lines.shift()
    }
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const exited = new Promise<number | null>(resolve => child.once('exit', (code) => resolve(code)))
  const handle: Child = {
    name,
    process: child,
    pid: child.pid,
    tail: () => [...lines, partial].filter(Boolean).join('\n'),
    warnings: () => warnings,
    exited
  }
  children.add(handle)
  exited.then(() => children.delete(handle), () => {})
  return handle
}

/** SIGTERM, then SIGKILL for a child that has not exited within `graceMs`. */
export async function killChild (child: Child, graceMs = 5000): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return
  child.process.kill('SIGTERM')
  const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs)
  await child.exited
  clearTimeout(timer)
}

export async function killAllChildren (): Promise<void> {
  await Promise.all([...children].map(c => killChild(c)))
}

/** The last resort in a synchronous `exit` handler: nothing may outlive the bench. */
export function killAllChildrenNow (): void {
  for (const child of children) {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL')
  }
}

/** A port the kernel just handed out on loopback; racy in theory, fine for a bench. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  await new Promise<void>(resolve => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port from the kernel')
  return address.port
}

/** Polls `url` until it answers `status`; fails early when the child exits. */
export async function waitForStatus (child: Child, url: string, status: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exited = false
  child.exited.then(() => { exited = true }, () => {})
  let last = 'no answer'
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${child.name} exited during start-up:\n${child.tail()}`)
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
      await response.arrayBuffer()
      if (response.status === status) return
      last = `HTTP ${response.status}`
    } catch (err) {
      last = (err as Error).message
    }
    await sleep(100)
  }
  throw new Error(`${child.name} did not answer ${status} on ${url} within ${timeoutMs} ms (last: ${last}):\n${child.tail()}`)
}

export interface Memory {
  /** Resident set size now, in MiB. */
  rssMiB: number
  /** The peak resident set size so far (VmHWM), in MiB; undefined where /proc is missing. */
  peakMiB?: number
}

let ticksPerSecond: number | undefined
/**
 * CPU time the process used so far (user + system, all threads), in ms; undefined without /proc.
 * Steadier than req/s on a shared machine: other processes take turns, not instructions.
 */
export function cpuTimeMs (pid: number): number | undefined {
  try {
    // Fields after the command name, which may itself hold spaces: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    return (Number(fields[11]) + Number(fields[12])) * 1000 / ticksPerSecond
  } catch {
    return undefined
  }
}

/** From /proc/<pid>/status on Linux, `ps -o rss=` elsewhere. */
export function memoryOf (pid: number): Memory {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1])
    return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 }
  } catch {
    const rss = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim())
    return { rssMiB: rss / 1024 }
  }
}
