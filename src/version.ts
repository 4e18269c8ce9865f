// The package version, read once from package.json (one level above both src/ and dist/src/).
import { readFileSync } from 'node:fs'

function findVersion (): string {
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'portcullis' && pkg.version) return pkg.version
    } catch {}
  }
  return '0.0.0'
}

export const version = findVersion()
