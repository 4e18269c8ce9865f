// `ban` and `unban`.
import { isBanned } from '../accounts/state.js'
import { OPERATOR } from '../admin/access.js'
import { banUser, unbanUser } from '../admin/users.js'
import { CliError, parseCommandLine, UsageError, type Command } from './command.js'
import { describeUser, findUser } from './users.js'

/** A date, or a date and time with an optional offset (none: local time). */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i

/** Whether the date part names a real day: Date rolls 2030-02-30 over to March 2 without a word. */
function realDay (raw: string): boolean {
  const [year, month, day] = raw.slice(0, 10).split('-').map(Number)
  return new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day && month >= 1 && month <= 12
}

export function parseUntil (raw: string): Date {
  const until = new Date(raw)
  if (!ISO_DATE.test(raw) || Number.isNaN(until.getTime()) || !realDay(raw)) {
    throw new UsageError(`--until must be an ISO 8601 date or time, such as 2030-01-31 or 2030-01-31T18:00:00Z; got "${raw}".`)
  }
  return until
}

export const ban: Command = {
  name: 'ban',
  summary: 'Ban a user (optionally until a date) and end their sessions.',
  help: `Usage: portcullis ban <user> [--reason <text>] [--until <date>]

Bans <user> (an email address or a username): every session of the user is revoked at once, a
login is refused with 403 account_banned, and Portcullis's own endpoints refuse the user's
still-unexpired access tokens. Banning a banned user replaces the reason and the end.

Options:
  --reason <text>   Why, for other operators (shown by the admin API, never to the user).
  --until <date>    When the ban ends: an ISO 8601 date or time in the future, such as 2030-01-31
                    (midnight UTC) or 2030-01-31T18:00:00+02:00. Without it the ban has no end.
  -h, --help        Show this help.

Exit status: 0 when banned; 1 when there is no such user or --until is not a future date;
78 when the configuration is not valid.
`,
  async run (args, cli) {
    const { values, positionals: [name] } = parseCommandLine(args, {
      reason: { type: 'string' },
      until: { type: 'string' }
    }, { required: ['user'] })
    const until = values.until === undefined ? undefined : parseUntil(values.until)
    const deps = await cli.deps()
    if (until !== undefined && until <= deps.now()) {
      throw new CliError(`--until must be in the future (leave it out for a ban without end); ${until.toISOString()} has passed.`)
    }
    const user = await findUser(deps, name)
    const reason = values.reason?.trim() || undefined
    await banUser(deps, OPERATOR, user.id, { reason, until })
    const end = until === undefined ? 'with no end' : `until ${until.toISOString()}`
    cli.stdout.write(`Banned ${describeUser(user)} ${end}${reason === undefined ? '' : ` (reason: ${reason})`}; every session of the user is revoked.\n`)
  }
}

export const unban: Command = {
  name: 'unban',
  summary: 'Lift a user\'s ban.',
  help: `Usage: portcullis unban <user>

Lifts the ban of <user> (an email address or a username) and clears its reason and end. The
user can log in again; sessions revoked by the ban stay revoked.

Options:
  -h, --help   Show this help.

Exit status: 0 when done (also when the user was not banned); 1 when there is no such user;
78 when the configuration is not valid.
`,
  async run (args, cli) {
    const { positionals: [name] } = parseCommandLine(args, {}, { required: ['user'] })
    const deps = await cli.deps()
    const user = await findUser(deps, name)
    const wasBanned = isBanned(user, deps.now())
    if (user.isBanned) await unbanUser(deps, OPERATOR, user.id)
    cli.stdout.write(wasBanned ? `Unbanned ${describeUser(user)}.\n` : `${describeUser(user)} was not banned.\n`)
  }
}
