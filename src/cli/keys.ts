// `keys rotate` and `keys list`: the signing key ring, on the server's database, by the server's
// key settings (recorded at its start), not by this process's environment.
import { describeKeys, keySource, keyTimes, keyView, rotateSigningKey, type KeyDeps, type KeyDescription } from '../keys/rotation.js'
import { describeKey, parsePrivateKey, type AsymmetricAlgorithm } from '../keys/material.js'
import { keyCipher } from '../keys/encryption.js'
import { isLive } from '../keys/schedule.js'
import { storedKeySettings, withKeySettings, type KeySettings } from '../keys/settings.js'
import { ConfigError, type Config } from '../config.js'
import { errors } from '../errors.js'
import { CliError, parseCommandLine, plural, UsageError, type CliContext, type Command } from './command.js'

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

/** The server's key settings, and this process's configuration with them in place of its own. */
async function serverSettings (cli: CliContext, deps: KeyDeps): Promise<{ config: Config, settings: KeySettings | undefined }> {
  const settings = await storedKeySettings(deps)
  if (settings === undefined) {
    cli.stderr.write('No server has recorded its key settings in this database yet (a server records them at each start): using this environment\'s.\n')
    return { config: deps.config, settings }
  }
  return { config: withKeySettings(deps.config, settings), settings }
}

async function list (args: string[], cli: CliContext): Promise<void> {
  const { values } = parseCommandLine(args, { json: { type: 'boolean' } })
  const deps = await cli.deps()
  const { config, settings } = await serverSettings(cli, deps)
  const source = settings?.source ?? keySource(config)
  const kid = settings === undefined ? await configuredKid(config) : settings.configuredKid ?? undefined
  const keys = await describeKeys({ ...deps, config }, kid)
  if (values.json === true) {
    cli.stdout.write(`${JSON.stringify({ algorithm: config.jwtAlgorithm, source, keys: keys.map(keyView) }, null, 2)}\n`)
    return
  }
  if (config.jwtAlgorithm === 'HS256') {
    cli.stdout.write('JWT_ALGORITHM is HS256: tokens are signed with the shared JWT_SECRET; no key is stored or published.\n')
    return
  }
  const rotation = config.jwtKeyRotationInterval === 0 ? 'on demand only' : `every ${config.jwtKeyRotationInterval} s`
  cli.stdout.write(`JWT_ALGORITHM ${config.jwtAlgorithm}; the signing key comes from the ${source}; rotation: ${source === 'database' ? rotation : 'by changing the configuration'}.\n`)
  cli.stdout.write(keys.length === 0 ? 'No keys yet: the server generates one on first start.\n' : `${table(keys)}\n`)
}

const ASYMMETRIC = ['RS256', 'ES256', 'EdDSA'] as const

/**
 * This process must seal new keys as the server does, or the server could not read them: the same
 * KEY_ENCRYPTION_KEY (every stored key opens with it), or none when the server has none.
 */
async function assertSameKeyEncryption (deps: KeyDeps, settings: KeySettings | undefined): Promise<void> {
  const cipher = keyCipher(deps.config.keyEncryptionKey)
  if (settings?.encrypted === true && !cipher.encrypts) {
    throw new ConfigError('KEY_ENCRYPTION_KEY', 'is not set, but the server encrypts the signing keys: give the CLI the server\'s value')
  }
  if (settings?.encrypted === false && cipher.encrypts) {
    throw new ConfigError('KEY_ENCRYPTION_KEY', 'is set, but the server runs without one and could not read a key sealed with it: unset it here, or set it for the server first')
  }
  for (const record of await deps.repositories.signingKeys.list()) cipher.open(record.kid, record.privateKey)
}

async function rotate (args: string[], cli: CliContext): Promise<void> {
  const { values } = parseCommandLine(args, { immediate: { type: 'boolean' }, algorithm: { type: 'string' }, force: { type: 'boolean' } })
  const wanted = values.algorithm
  if (wanted !== undefined && !(ASYMMETRIC as readonly string[]).includes(wanted)) {
    throw new UsageError(`--algorithm must be one of ${ASYMMETRIC.join(', ')}; got "${wanted}".`)
  }
  if (values.force === true && wanted === undefined) throw new UsageError('--force only goes with --algorithm.')
  const deps = await cli.deps()
  const { config, settings } = await serverSettings(cli, deps)
  if (settings?.source === 'configuration' && settings.algorithm !== 'HS256') {
    throw errors.keyConfigured('The server\'s signing key comes from JWT_PRIVATE_KEY (or JWT_PRIVATE_KEY_FILE): rotate it in the configuration (see README, "Rotating a configured key").')
  }
  await assertSameKeyEncryption(deps, settings)

  // The live signer: the server's algorithm's, or (no settings recorded) the oldest live key's.
  const now = deps.now().getTime()
  const live = (await deps.repositories.signingKeys.list()).filter(key => isLive(key, now) && key.createdAt.getTime() <= now)
  const signer = live.find(key => key.algorithm === config.jwtAlgorithm) ?? (settings === undefined ? live[0] : undefined)
  const algorithm = (wanted ?? (settings === undefined ? signer?.algorithm : undefined) ?? config.jwtAlgorithm) as AsymmetricAlgorithm
  const switching = signer !== undefined && signer.algorithm !== algorithm
  if (switching && values.force !== true) {
    throw new CliError(`The live signing key ${signer.kid} is ${signer.algorithm}, the server's JWT_ALGORITHM; a ${algorithm} key would not sign until the server's JWT_ALGORITHM is changed. ` +
      `To publish a ${algorithm} key ahead of that change, run again with --algorithm ${algorithm} --force. Nothing was changed.`)
  }

  const rotation = await rotateSigningKey({ ...deps, config }, { immediate: values.immediate === true, algorithm })
  if (switching) {
    cli.stdout.write(`New ${algorithm} key ${rotation.kid}: published now. The server keeps signing with its ${signer.algorithm} key ${signer.kid} ` +
      `until its JWT_ALGORITHM is set to ${algorithm} and it is restarted; then this key signs, and the ${signer.algorithm} keys retire and stay published until their tokens expire.\n`)
    return
  }
  const retiring = rotation.retired.length === 0 ? '' : ` ${plural(rotation.retired.length, 'key')} (${rotation.retired.join(', ')}) stop${rotation.retired.length === 1 ? 's' : ''} signing then and stay${rotation.retired.length === 1 ? 's' : ''} published for ${keyTimes(config).retentionMs / 1000} s more.`
  cli.stdout.write(`New ${algorithm} key ${rotation.kid}: published now, signing from ${rotation.signsFrom.toISOString()}${values.immediate === true ? ' (now)' : ''}.${retiring}\n`)
  cli.stdout.write(`Running servers pick it up within ${config.jwtKeyReloadInterval} s (JWT_KEY_RELOAD_INTERVAL).\n`)
}

export const keys: Command = {
  name: 'keys',
  summary: 'Rotate or list the token signing keys.',
  help: `Usage: portcullis keys rotate [--immediate] [--algorithm <alg> --force]
       portcullis keys list [--json]

Both go by the key settings the server recorded in the database when it last started (its
JWT_ALGORITHM, JWKS_MAX_AGE, JWT_KEY_RELOAD_INTERVAL, ACCESS_TOKEN_TTL, key source), not by this
environment's; only KEY_ENCRYPTION_KEY must be given here, the server's value.

rotate  Generates a key of the server's JWT_ALGORITHM and publishes it in the JWKS at once. It starts signing
        after JWKS_MAX_AGE plus JWT_KEY_RELOAD_INTERVAL, when every verifier that honours the
        JWKS Cache-Control has fetched it; the current key stops signing then and stays published
        until every token it signed has expired (ACCESS_TOKEN_TTL plus a minute). Running servers
        pick the change up within JWT_KEY_RELOAD_INTERVAL, without a restart.
        Refused (exit 1) when the key comes from JWT_PRIVATE_KEY, JWT_PRIVATE_KEY_FILE or
        JWT_SECRET (HS256): rotate those in the configuration (see README). Refused (exit 1)
        too for another algorithm than the live signer's, unless --force.
list    The keys, newest first: kid, algorithm, status (active, next, retired, expired),
        whether the JWKS publishes it, and when it was created, signs, retired and is published until.

Options:
  --immediate  (rotate) Sign with the new key at once, for a key that must stop signing now;
               verifiers that cached the JWKS refuse the new tokens until they fetch it again.
  --algorithm <alg>  (rotate) RS256, ES256 or EdDSA; another one than the live signer's needs
               --force: the key is published ahead of a change of the server's JWT_ALGORITHM, and
               the server keeps signing with its current key until it restarts with that change.
  --force      (rotate) Allow --algorithm to differ from the live signer's.
  --json       (list) Machine-readable output.
  -h, --help   Show this help.

Exit status: 0 on success; 1 when rotation is refused or on a bad argument; 66 when the
database does not exist; 78 when the configuration is not valid, or KEY_ENCRYPTION_KEY is not
the server's.
`,
  async run (args, cli) {
    const [subcommand, ...rest] = args
    if (subcommand === 'rotate') return rotate(rest, cli)
    if (subcommand === 'list') return list(rest, cli)
    throw new UsageError(subcommand === undefined ? 'Missing <rotate|list>.' : `Unknown subcommand "${subcommand}": expected rotate or list.`)
  }
}
