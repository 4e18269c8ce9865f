// runtime/: process-level helpers with no domain (version, durations, bounded waits).
// The package version, read once from package.json (two levels above src/runtime/ and three above dist/src/runtime/).
import { readFileSync } from 'node:fs'

function findVersion (): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'portcullis' && pkg.version) return pkg.version
    } catch {}
  }
  return '0.0.0'
}

export const version = findVersion()
