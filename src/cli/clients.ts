// `create-client`, `list-clients` and `delete-client`: service clients for the client credentials grant.
import { createClient, deleteClient, listClients } from '../oauth/service-clients.js'
import { MAX_SCOPES, parseScope } from '../oauth/scopes.js'
import { CliError, parseCommandLine, UsageError, type Command } from './command.js'
import { table } from './list-users.js'

export const createClientCommand: Command = {
  name: 'create-client',
  summary: 'Register a service client and print its id and secret (shown once).',
  help: `Usage: portcullis create-client --name <name> [--scope <scope>]... [--json]

Registers a service client for the OAuth 2.0 client credentials grant (POST /oauth/token) and
prints its client id and secret. The secret is shown this once: only its hash is stored.

Options:
  --name <name>    For people: 1 to 150 characters, no control characters (required).
  --scope <scope>  A scope the client may request; repeat it, or give several separated by spaces.
                   Scope-tokens as in RFC 6749 §3.3: printable ASCII without space, " or \\,
                   at most 100 characters each, at most ${MAX_SCOPES} in all. None: a client without
                   scopes (it can still introspect, revoke and read the revocation feed).
  --json           Print {client_id, client_secret, name, scopes, ...} as JSON instead.
  -h, --help       Show this help.

Exit status: 0 when created; 1 on a bad option; 78 when the configuration is not valid.
`,
  async run (args, cli) {
    const { values } = parseCommandLine(args, { name: { type: 'string' }, scope: { type: 'string', multiple: true }, json: { type: 'boolean' } })
    const name = values.name
    if (name === undefined) throw new UsageError('Missing --name <name>.')
    if (name.length < 1 || name.length > 150 || /\p{C}/u.test(name)) throw new UsageError('--name must be 1 to 150 characters with no control characters.')
    const scopes: string[] = []
    for (const raw of values.scope ?? []) {
      const parsed = parseScope(raw.trim())
      if (parsed === undefined) throw new UsageError(`"${raw}" is not a valid scope: printable ASCII without spaces, " or \\, at most 100 characters.`)
      scopes.push(...parsed)
    }
    if (new Set(scopes).size > MAX_SCOPES) throw new UsageError(`At most ${MAX_SCOPES} scopes.`)
    const client = await createClient(await cli.deps(), { name, scopes })
    if (values.json === true) {
      cli.stdout.write(`${JSON.stringify(client, null, 2)}\n`)
      return
    }
    cli.stdout.write(`Created client ${client.name}.
client_id:     ${client.client_id}
client_secret: ${client.client_secret}
scopes:        ${client.scopes.join(' ') || '(none)'}
The secret is not shown again: store it now.
`)
  }
}

export const listClientsCommand: Command = {
  name: 'list-clients',
  summary: 'List service clients (id, name, scopes, created, last used).',
  help: `Usage: portcullis list-clients [--json]

Lists the registered service clients, oldest first: client id, name, scopes, when created and when
last used (UTC, to the minute). Secrets are never shown.

Options:
  --json      Print a JSON array of clients as the admin API shows them.
  -h, --help  Show this help.

Exit status: 0; 1 on a bad option; 78 when the configuration is not valid.
`,
  async run (args, cli) {
    const { values } = parseCommandLine(args, { json: { type: 'boolean' } })
    const clients = await listClients(await cli.deps())
    if (values.json === true) {
      cli.stdout.write(`${JSON.stringify(clients, null, 2)}\n`)
      return
    }
    if (clients.length === 0) {
      cli.stdout.write('No clients.\n')
      return
    }
    const time = (iso: string | null) => iso === null ? '-' : iso.slice(0, 16).replace('T', ' ')
    const rows = clients.map(c => [c.client_id, c.name, c.scopes.join(' ') || '-', time(c.created_at), time(c.last_used_at)])
    cli.stdout.write(table(['CLIENT_ID', 'NAME', 'SCOPES', 'CREATED', 'LAST_USED'], rows))
  }
}

export const deleteClientCommand: Command = {
  name: 'delete-client',
  summary: 'Delete a service client; its tokens stop working.',
  help: `Usage: portcullis delete-client <client_id>

Deletes the service client: it can no longer get tokens, introspection reports its tokens
inactive, and the revocation feed names it so that offline verifiers drop its tokens too.

Options:
  -h, --help  Show this help.

Exit status: 0 when deleted; 1 when there is no such client; 78 when the configuration is not valid.
`,
  async run (args, cli) {
    const { positionals: [id] } = parseCommandLine(args, {}, { required: ['client_id'] })
    try {
      await deleteClient(await cli.deps(), id)
    } catch (err) {
      if ((err as { code?: string }).code === 'not_found') throw new CliError(`No client with id "${id}". Run "portcullis list-clients" to see them.`)
      throw err
    }
    cli.stdout.write(`Deleted client ${id}.\n`)
  }
}
