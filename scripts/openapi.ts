// npm run openapi: writes openapi.json; with --check (CI), fails when the committed file is out of date.
import { readFileSync, writeFileSync } from 'node:fs'
import { buildOpenApiDocument, sameDocument } from './openapi-document.js'

const file = new URL('../openapi.json', import.meta.url)
const generated = await buildOpenApiDocument()

if (process.argv.includes('--check')) {
  let committed = ''
  try {
    committed = readFileSync(file, 'utf8')
  } catch {}
  if (!sameDocument(committed, generated)) {
    process.stderr.write('openapi.json is out of date with the routes: run `npm run openapi` and commit the result.\n')
    process.exit(1)
  }
  process.stdout.write('openapi.json is up to date.\n')
} else {
  writeFileSync(file, generated)
  process.stdout.write('wrote openapi.json\n')
}
