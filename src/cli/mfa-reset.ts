// `mfa-reset`: removes a user's second factors, for a user who lost its phone.
import { OPERATOR } from '../admin/access.js'
import { resetUserMfa } from '../admin/users.js'
import { parseCommandLine, type Command } from './command.js'
import { describeUser, findUser } from './users.js'

export const mfaReset: Command = {
  name: 'mfa-reset',
  summary: 'Remove a user\'s second factors (authenticator app, passkeys, recovery codes) and end their sessions.',
  help: `Usage: portcullis mfa-reset <user>

Removes every second factor of <user> (an email address or a username): the authenticator app, the
passkeys and the recovery codes. Every session of the user is revoked; the next login asks for the password
only, and the user sets up a new second factor itself. Secrets are never shown.

Options:
  -h, --help   Show this help.

Exit status: 0 when done (also when the user had no second factor); 1 when there is no such user;
78 when the configuration is not valid.
`,
  async run (args, cli) {
    const { positionals: [name] } = parseCommandLine(args, {}, { required: ['user'] })
    const deps = await cli.deps()
    const user = await findUser(deps, name)
    const before = await deps.repositories.mfa.factors(user.id)
    await resetUserMfa(deps, OPERATOR, user.id)
    const had = before.totp || before.passkeys > 0 || before.recoveryCodesLeft > 0
    cli.stdout.write(had
      ? `Removed the second factors of ${describeUser(user)}; every session of the user is revoked.\n`
      : `${describeUser(user)} had no second factor; every session of the user is revoked.\n`)
  }
}
