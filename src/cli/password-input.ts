// Where a new password comes from: typed twice at the terminal, or PORTCULLIS_PASSWORD with --no-input.
import { CliError, type CliContext } from './command.js'
import { createPrompter, type Prompter } from './prompt.js'

export const PASSWORD_VARIABLE = 'PORTCULLIS_PASSWORD'

/** Why a password is not acceptable (none: it is); the breached-password check makes it asynchronous. */
export type PasswordProblems = (password: string) => string[] | Promise<string[]>

/** How many times a person may get the password wrong (blank, mismatch, policy) before the command gives up. */
export const PASSWORD_ATTEMPTS = 3

/** The help text's paragraph on password input, shared by the commands that set one. */
export const PASSWORD_HELP = `The password is asked for twice at the terminal, without echo. With --no-input nothing is
asked: the password comes from the ${PASSWORD_VARIABLE} environment variable (keep it out of the
shell history and process lists, e.g. read it from a secrets file into the variable).`

/**
 * The prompter for an interactive command, or undefined with --no-input. Without --no-input stdin must
 * be a terminal: a script that pipes in a password would otherwise wait forever or leak it to the echo.
 */
export function interactive (cli: CliContext, noInput: boolean): Prompter | undefined {
  if (noInput) return undefined
  if (cli.stdin.isTTY !== true) {
    throw new CliError(`Cannot prompt for the password: stdin is not a terminal. Run it in a terminal, or pass --no-input and set ${PASSWORD_VARIABLE} in the environment.`)
  }
  return createPrompter(cli.stdin, cli.stderr)
}

/** The password from the environment, for --no-input. */
export function passwordFromEnvironment (cli: CliContext): string {
  const password = cli.env[PASSWORD_VARIABLE]
  if (password === undefined || password === '') {
    throw new CliError(`--no-input needs the password in the ${PASSWORD_VARIABLE} environment variable, and it is not set.`)
  }
  return password
}

/**
 * Asks for the password and its confirmation, as Django's createsuperuser does; a blank, a mismatch
 * or a password the policy refuses (`problems` lists why) asks again, up to PASSWORD_ATTEMPTS times.
 */
export async function promptNewPassword (prompter: Prompter, problems: PasswordProblems): Promise<string> {
  let last = ''
  for (let attempt = 1; attempt <= PASSWORD_ATTEMPTS; attempt++) {
    const password = await prompter.askHidden('Password: ')
    if (password === '') {
      last = 'Blank passwords are not allowed.'
      prompter.say(`Error: ${last}`)
      continue
    }
    const again = await prompter.askHidden('Password (again): ')
    if (again !== password) {
      last = 'The passwords did not match.'
      prompter.say(`Error: ${last}`)
      continue
    }
    const found = await problems(password)
    if (found.length > 0) {
      last = `The password is not acceptable: ${found.join('; ')}.`
      prompter.say(`Error: ${last}`)
      continue
    }
    return password
  }
  throw new CliError(`No acceptable password after ${PASSWORD_ATTEMPTS} attempts. ${last}`)
}

/** The new password by the rules above: from the environment with --no-input, else typed twice. */
export async function readNewPassword (cli: CliContext, prompter: Prompter | undefined, problems: PasswordProblems): Promise<string> {
  return prompter === undefined ? passwordFromEnvironment(cli) : promptNewPassword(prompter, problems)
}
