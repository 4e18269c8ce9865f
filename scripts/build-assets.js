// After tsc: the migrations ship beside the compiled storage code, and the CLI entry is executable.
import { chmodSync, cpSync, existsSync } from 'node:fs'

for (const database of ['sqlite', 'postgres']) {
  const migrations = `db/${database}/migrations`
  if (existsSync(migrations)) cpSync(migrations, `dist/${migrations}`, { recursive: true })
}
chmodSync('dist/src/cli/main.js', 0o755)
