// `list-users`: a table of users, newest first, or their JSON as the admin API shows it.
import { listUsers, type AdminUserView } from '../admin/users.js'
import { UsageError, parseCommandLine, type Command } from './command.js'

export const DEFAULT_LIMIT = 50
export const MAX_LIMIT = 1000

function parseLimit (raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LIMIT
  const limit = /^\d+$/.test(raw) ? Number(raw) : NaN
  if (!(limit >= 1 && limit <= MAX_LIMIT)) throw new UsageError(`--limit must be a whole number from 1 to ${MAX_LIMIT}; got "${raw}".`)
  return limit
}

function flags (user: AdminUserView, now: Date): string {
  const banned = user.is_banned && (user.banned_until === null || new Date(user.banned_until) > now)
  const names = [
    user.is_superuser && 'superuser',
    user.is_staff && 'staff',
    user.email_verified && 'verified',
    !user.is_active && 'inactive',
    banned && 'banned'
  ].filter(Boolean)
  return names.length === 0 ? '-' : names.join(',')
}

/** Left-aligned columns, two spaces apart. */
export function table (header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map(row => row[i].length)))
  return [header, ...rows].map(row => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n'
}

export const listUsersCommand: Command = {
  name: 'list-users',
  summary: 'List users (email, username, flags, joined), or print them as JSON.',
  help: `Usage: portcullis list-users [--query <text>] [--limit <n>] [--json]

Lists users, newest first: email, username, flags (superuser, staff, verified, inactive,
banned) and when they joined (UTC).

Options:
  -q, --query <text>  Only users whose email or username contains <text> (case-insensitive).
  -n, --limit <n>     At most <n> users, 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT}). When more match, a note on
                      stderr says so.
  --json              Print a JSON array of users as the admin API shows them (with id, groups,
                      permissions and the ban) instead of the table.
  -h, --help          Show this help.

Exit status: 0; 1 on a bad option; 78 when the configuration is not valid.
`,
  async run (args, cli) {
    const { values } = parseCommandLine(args, {
      query: { type: 'string', short: 'q' },
      limit: { type: 'string', short: 'n' },
      json: { type: 'boolean' }
    })
    const limit = parseLimit(values.limit)
    const deps = await cli.deps()
    const page = await listUsers(deps, { q: values.query, limit })
    if (values.json === true) {
      cli.stdout.write(`${JSON.stringify(page.items, null, 2)}\n`)
    } else if (page.items.length === 0) {
      cli.stdout.write(values.query === undefined ? 'No users.\n' : `No users match "${values.query}".\n`)
    } else {
      const now = deps.now()
      const rows = page.items.map(user => [user.email, user.username, flags(user, now), user.date_joined.slice(0, 16).replace('T', ' ')])
      cli.stdout.write(table(['EMAIL', 'USERNAME', 'FLAGS', 'JOINED'], rows))
    }
    if (page.next_cursor !== null) {
      cli.stderr.write(`Only the newest ${limit} are shown; more users match. Raise --limit or narrow with --query.\n`)
    }
  }
}
