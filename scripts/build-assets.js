// After tsc: the migrations ship beside the compiled storage code, the password list beside the policy, and the CLI entry is executable.
import { chmodSync, cpSync, existsSync } from 'node:fs'

for (const database of ['sqlite', 'postgres']) {
  const migrations = `db/${database}/migrations`
  if (existsSync(migrations)) cpSync(migrations, `dist/${migrations}`, { recursive: true })
}
// Django's common-password list, read beside the compiled policy.
cpSync('src/passwords/common-passwords.txt.gz', 'dist/src/passwords/common-passwords.txt.gz')
chmodSync('dist/src/cli/main.js', 0o755)
