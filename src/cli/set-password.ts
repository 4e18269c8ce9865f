// `set-password <user>`: a new password, set by the operator; the user's sessions end.
import { setPassword } from '../accounts/accounts.js'
import { parseCommandLine, plural, type Command } from './command.js'
import { interactive, PASSWORD_HELP, PASSWORD_VARIABLE, readNewPassword } from './password-input.js'
import { describeUser, findUser } from './users.js'

const options = {
  'no-input': { type: 'boolean' },
  noinput: { type: 'boolean' }
} as const

export const setPasswordCommand: Command = {
  name: 'set-password',
  summary: 'Set a user\'s password and end their sessions.',
  help: `Usage: portcullis set-password <user> [--no-input]

Sets the password of <user> (an email address or a username) without asking for the current one,
and revokes every session of the user: their refresh tokens stop working at once.

Options:
  --no-input   Ask nothing: the password comes from ${PASSWORD_VARIABLE} (--noinput works too).
  -h, --help   Show this help.

${PASSWORD_HELP}

Exit status: 0 when set; 1 when there is no such user, the password is not acceptable, or no
password was given; 78 when the configuration is not valid.
`,
  async run (args, cli) {
    const { values, positionals: [name] } = parseCommandLine(args, options, { required: ['user'] })
    const deps = await cli.deps()
    const user = await findUser(deps, name)
    const prompter = interactive(cli, values['no-input'] === true || values.noinput === true)
    try {
      const password = await readNewPassword(cli, prompter, candidate => deps.passwordPolicy.check(candidate, user))
      const revoked = await setPassword(deps, user.id, password)
      cli.stdout.write(`Password of ${describeUser(user)} changed; ${plural(revoked, 'session')} revoked.\n`)
    } finally {
      prompter?.close()
    }
  }
}
