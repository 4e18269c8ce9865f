// `create-superuser` and `create-user`: an account with a password, created by the operator.
import { createAccount } from '../accounts/accounts.js'
import { normaliseEmail } from '../accounts/identifiers.js'
import { CliError, parseCommandLine, UsageError, type CliContext, type Command } from './command.js'
import { interactive, PASSWORD_HELP, PASSWORD_VARIABLE, readNewPassword } from './password-input.js'
import type { Prompter } from './prompt.js'
import { describeUser } from './users.js'

// The email pattern is ajv-formats' `email`: what the register route's `format: 'email'` checks.
const EMAIL_PATTERN = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i

/** The register route's field rules, so the CLI cannot create an account the API would refuse. */
async function checkFields (email: string, username: string): Promise<void> {
  // Loaded here: TypeBox is heavy for `--help`, and by now the configuration has loaded it anyway.
  const { Email, Username } = await import('../schemas/fields.js')
  if (email.length > (Email.maxLength as number) || !EMAIL_PATTERN.test(email)) {
    throw new CliError(`"${email}" is not a valid email address.`)
  }
  if (username.length > (Username.maxLength as number) || !new RegExp(Username.pattern as string, 'u').test(username)) {
    throw new CliError(`"${username}" is not a valid username: ${Username.description}`)
  }
}

async function askRequired (prompter: Prompter | undefined, question: string, what: string): Promise<string> {
  if (prompter === undefined) throw new UsageError(`${what} is required with --no-input.`)
  const answer = (await prompter.ask(question)).trim()
  if (answer === '') throw new CliError(`${what} is required.`)
  return answer
}

const OPTIONS_HELP = `  --email <email>    The email address (asked for when missing).
  --username <name>  The username (asked for when missing).
  --no-input         Ask nothing: --email and --username are required, and the password comes
                     from ${PASSWORD_VARIABLE} (--noinput works too).`

const EXIT_HELP = `Exit status: 0 when created; 1 when the email or username is taken or not valid, the password
is not acceptable, or no password was given; 78 when the configuration is not valid.`

const options = {
  email: { type: 'string' },
  username: { type: 'string' },
  'no-input': { type: 'boolean' },
  noinput: { type: 'boolean' }
} as const

const userOptions = {
  ...options,
  staff: { type: 'boolean' },
  verified: { type: 'boolean' }
} as const

interface Kind {
  label: string
  flags: { isStaff: boolean, isSuperuser: boolean, emailVerified: boolean }
}

async function create (cli: CliContext, kind: Kind, values: { email?: string, username?: string, 'no-input'?: boolean, noinput?: boolean }): Promise<void> {
  const noInput = values['no-input'] === true || values.noinput === true
  if (noInput && values.email === undefined) throw new UsageError('--email is required with --no-input.')
  if (noInput && values.username === undefined) throw new UsageError('--username is required with --no-input.')
  // The configuration and the database first: a bad DATABASE_URL is found before anything is typed.
  const deps = await cli.deps()
  const prompter = interactive(cli, noInput)
  try {
    const email = normaliseEmail(values.email ?? await askRequired(prompter, 'Email address: ', 'An email address'))
    const username = values.username ?? await askRequired(prompter, 'Username: ', 'A username')
    await checkFields(email, username)
    // Checked before the password is typed; createAccount checks again, and the unique indexes decide a race.
    if (await deps.repositories.users.findByEmail(email)) throw new CliError(`An account with the email ${email} already exists.`)
    if (await deps.repositories.users.findByUsername(username)) throw new CliError(`The username "${username}" is already taken.`)
    const password = await readNewPassword(cli, prompter, candidate => deps.passwordPolicy.check(candidate, { email, username }))
    const user = await createAccount(deps, { email, username, password, ...kind.flags })
    cli.stdout.write(`Created ${kind.label} ${describeUser(user)} with id ${user.id}.\n`)
  } finally {
    prompter?.close()
  }
}

export const createSuperuser: Command = {
  name: 'create-superuser',
  summary: 'Create a superuser (every permission), asking for the password.',
  help: `Usage: portcullis create-superuser [--email <email>] [--username <name>] [--no-input]

Creates a superuser, as Django's createsuperuser does: staff, every permission, and the email
address marked verified, so the account can log in at once.

Options:
${OPTIONS_HELP}
  -h, --help         Show this help.

${PASSWORD_HELP}

${EXIT_HELP}

Example:
  PORTCULLIS_PASSWORD="$(cat /run/secrets/admin)" portcullis create-superuser --no-input \\
    --email admin@example.com --username admin
`,
  async run (args, cli) {
    const { values } = parseCommandLine(args, options)
    await create(cli, { label: 'superuser', flags: { isStaff: true, isSuperuser: true, emailVerified: true } }, values)
  }
}

export const createUser: Command = {
  name: 'create-user',
  summary: 'Create a user, asking for the password.',
  help: `Usage: portcullis create-user [--email <email>] [--username <name>] [--staff] [--verified] [--no-input]

Creates an ordinary user with a password; no verification mail is sent. Unless --verified is
given the email address starts unverified, as after registration (the user can ask for a new
verification mail through the API).

Options:
${OPTIONS_HELP}
  --staff            Make the user staff.
  --verified         Mark the email address as verified.
  -h, --help         Show this help.

${PASSWORD_HELP}

${EXIT_HELP}
`,
  async run (args, cli) {
    const { values } = parseCommandLine(args, userOptions)
    await create(cli, {
      label: values.staff === true ? 'staff user' : 'user',
      flags: { isStaff: values.staff === true, isSuperuser: false, emailVerified: values.verified === true }
    }, values)
  }
}
