#!/usr/bin/env node
// The operator CLI's process: the command line, the standard streams and the exit status (src/cli/run.ts).
import { runCli } from './run.js'

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  get stdin () { return process.stdin },
  stdout: process.stdout,
  stderr: process.stderr
})
