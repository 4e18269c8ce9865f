// `keys rotate` and `keys list`: the signing key ring, on the server's database.
import { describeKeys, keySource, keyTimes, keyView, rotateSigningKey, type KeyDescription } from '../keys/rotation.js'
import { describeKey, parsePrivateKey } from '../keys/material.js'
import type { Config } from '../config.js'
import { parseCommandLine, plural, UsageError, type CliContext, type Command } from './command.js'

const when = (date: Date | null) => date === null ? '-' : date.toISOString()

function table (keys: KeyDescription[]): string {
  const rows = [['KID', 'ALGORITHM', 'STATUS', 'PUBLISHED', 'CREATED', 'SIGNS FROM', 'RETIRED', 'PUBLISHED UNTIL']]
  for (const key of keys) {
    rows.push([
      key.kid, key.algorithm, key.source === 'configuration' ? 'active (configured)' : key.status, key.status === 'expired' ? 'no' : 'yes',
      when(key.createdAt), when(key.signsFrom), when(key.retiredAt), when(key.publishedUntil)
    ])
  }
  const widths = rows[0].map((_, column) => Math.max(...rows.map(row => row[column].length)))
  return rows.map(row => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd()).join('\n')
}

async function configuredKid (config: Config): Promise<string | undefined> {
  if (config.jwtAlgorithm === 'HS256' || config.jwtPrivateKey === undefined) return undefined
  return (await describeKey(parsePrivateKey(config.jwtPrivateKey), config.jwtAlgorithm)).kid
}

async function list (args: string[], cli: CliContext): Promise<void> {
  const { values } = parseCommandLine(args, { json: { type: 'boolean' } })
  const deps = await cli.deps()
  const { config } = deps
  const keys = await describeKeys(deps, await configuredKid(config))
  if (values.json === true) {
    cli.stdout.write(`${JSON.stringify({ algorithm: config.jwtAlgorithm, source: keySource(config), keys: keys.map(keyView) }, null, 2)}\n`)
    return
  }
  if (config.jwtAlgorithm === 'HS256') {
    cli.stdout.write('JWT_ALGORITHM is HS256: tokens are signed with the shared JWT_SECRET; no key is stored or published.\n')
    return
  }
  const rotation = config.jwtKeyRotationInterval === 0 ? 'on demand only' : `every ${config.jwtKeyRotationInterval} s`
  cli.stdout.write(`JWT_ALGORITHM ${config.jwtAlgorithm}; the signing key comes from the ${keySource(config)}; rotation: ${keySource(config) === 'database' ? rotation : 'by changing the configuration'}.\n`)
  cli.stdout.write(keys.length === 0 ? 'No keys yet: the server generates one on first start.\n' : `${table(keys)}\n`)
}

async function rotate (args: string[], cli: CliContext): Promise<void> {
  const { values } = parseCommandLine(args, { immediate: { type: 'boolean' } })
  const deps = await cli.deps()
  const rotation = await rotateSigningKey(deps, { immediate: values.immediate === true })
  const { config } = deps
  const retiring = rotation.retired.length === 0 ? '' : ` ${plural(rotation.retired.length, 'key')} (${rotation.retired.join(', ')}) stop${rotation.retired.length === 1 ? 's' : ''} signing then and stay${rotation.retired.length === 1 ? 's' : ''} published for ${keyTimes(config).retentionMs / 1000} s more.`
  cli.stdout.write(`New ${config.jwtAlgorithm} key ${rotation.kid}: published now, signing from ${rotation.signsFrom.toISOString()}${values.immediate === true ? ' (now)' : ''}.${retiring}\n`)
  cli.stdout.write(`Running servers pick it up within ${config.jwtKeyReloadInterval} s (JWT_KEY_RELOAD_INTERVAL).\n`)
}

export const keys: Command = {
  name: 'keys',
  summary: 'Rotate or list the token signing keys.',
  help: `Usage: portcullis keys rotate [--immediate]
       portcullis keys list [--json]

rotate  Generates a key of JWT_ALGORITHM and publishes it in the JWKS at once. It starts signing
        after JWKS_MAX_AGE plus JWT_KEY_RELOAD_INTERVAL, when every verifier that honours the
        JWKS Cache-Control has fetched it; the current key stops signing then and stays published
        until every token it signed has expired (ACCESS_TOKEN_TTL plus a minute). Running servers
        pick the change up within JWT_KEY_RELOAD_INTERVAL, without a restart.
        Refused (exit 1) when the key comes from JWT_PRIVATE_KEY, JWT_PRIVATE_KEY_FILE or
        JWT_SECRET (HS256): rotate those in the configuration (see README).
list    The keys, newest first: kid, algorithm, status (active, next, retired, expired),
        whether the JWKS publishes it, and when it was created, signs, retired and is published until.

Options:
  --immediate  (rotate) Sign with the new key at once, for a key that must stop signing now;
               verifiers that cached the JWKS refuse the new tokens until they fetch it again.
  --json       (list) Machine-readable output.
  -h, --help   Show this help.

Exit status: 0 on success; 1 when rotation is refused or on a bad argument; 78 when the
configuration is not valid.
`,
  async run (args, cli) {
    const [subcommand, ...rest] = args
    if (subcommand === 'rotate') return rotate(rest, cli)
    if (subcommand === 'list') return list(rest, cli)
    throw new UsageError(subcommand === undefined ? 'Missing <rotate|list>.' : `Unknown subcommand "${subcommand}": expected rotate or list.`)
  }
}
