// npm run openapi:client: TypeScript types of the API from openapi.json (openapi-typescript), for the
// generated-client journey test. The output is gitignored: it is rebuilt before typecheck and test.
import { mkdirSync, writeFileSync } from 'node:fs'
import openapiTS, { astToString } from 'openapi-typescript'

const source = new URL('../openapi.json', import.meta.url)
const target = new URL('../test/generated/portcullis-api.ts', import.meta.url)

const ast = await openapiTS(source, { silent: true })
mkdirSync(new URL('.', target), { recursive: true })
writeFileSync(target, `// Generated from openapi.json by npm run openapi:client. Do not edit.\n${astToString(ast)}`)
