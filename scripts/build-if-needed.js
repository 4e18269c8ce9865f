// npm run build:if-needed (before npm start, npm run cli, npm run db:migrate): compiles only when
// dist/ is not the build of the sources as they are now (scripts/build-stamp.js). Even with nothing
// to do, `tsc --incremental` spent ~5 CPU-seconds reading the project to find that out.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { buildIsCurrent, forgetBuild, recordBuild, sourcesDigest } from './build-stamp.js'

const digest = sourcesDigest()
if (!buildIsCurrent(digest)) {
  // Until the build has succeeded, dist/ is not the build of anything recorded.
  forgetBuild()
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const steps = [
    [tsc, '-p', 'tsconfig.build.json', '--incremental', '--tsBuildInfoFile', 'dist/.tsbuildinfo'],
    [new URL('build-assets.js', import.meta.url).pathname]
  ]
  for (const args of steps) {
    const { status, error } = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: new URL('../', import.meta.url).pathname })
    if (error !== undefined) throw error
    if (status !== 0) process.exit(status ?? 1)
  }
  recordBuild(digest)
}
