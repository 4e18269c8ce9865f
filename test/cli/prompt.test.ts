// The password prompt on in-memory streams, the argument parsing helpers, and the prompt for real on a
// pseudo-terminal (util-linux `script`), where it is available.
import { spawn, spawnSync } from 'node:child_process'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { parseUntil } from '../../src/cli/ban.js'
import { CliError, parseCommandLine, UsageError, wantsHelp, type CliContext } from '../../src/cli/command.js'
import { interactive, passwordFromEnvironment, promptNewPassword } from '../../src/cli/password-input.js'
import { createPrompter } from '../../src/cli/prompt.js'
import { passwordProblems } from '../../src/passwords/policy.js'
import { cli, PASSWORD, tempDatabase } from './run.js'
import { NO_CHILD_COVERAGE, SOURCE_LOADER_ARGS } from '../source-loader.js'

function terminal () {
  const input = new PassThrough()
  const output = new PassThrough()
  let written = ''
  output.on('data', chunk => { written += chunk })
  const prompter = createPrompter(input, output)
  return { input, prompter, written: () => written }
}

const policy = (password: string) => passwordProblems(password, { email: 'ada@example.com', username: 'ada' })

t.test('the password is asked twice and never echoed; lines typed ahead are kept', async t => {
  const { input, prompter, written } = terminal()
  t.teardown(() => prompter.close())
  input.write(`${PASSWORD}\r${PASSWORD}\r`)
  t.equal(await promptNewPassword(prompter, policy), PASSWORD)
  t.equal(written(), 'Password: \nPassword (again): \n')
})

t.test('a blank, a mismatch or a refused password asks again; after three tries the command gives up', async t => {
  const { input, prompter, written } = terminal()
  t.teardown(() => prompter.close())
  input.write(`\r${PASSWORD}\rsomething else\r12345678\r12345678\r`)
  await t.rejects(promptNewPassword(prompter, policy), { message: /^No acceptable password after 3 attempts\. The password is not acceptable: must not be entirely numeric; must not be a commonly used password\.$/ })
  t.match(written(), 'Error: Blank passwords are not allowed.\n')
  t.match(written(), 'Error: The passwords did not match.\n')
  t.match(written(), 'Error: The password is not acceptable: must not be entirely numeric; must not be a commonly used password.\n')
  t.notMatch(written(), PASSWORD)
  t.notMatch(written(), '12345678')

  const second = terminal()
  t.teardown(() => second.prompter.close())
  second.input.write(`\r${PASSWORD}\r${PASSWORD}\r`)
  t.equal(await promptNewPassword(second.prompter, policy), PASSWORD, 'a good password on the second try')
})

t.test('visible questions echo; the end of the input and Ctrl-C stop the prompt', async t => {
  const visible = terminal()
  const email = visible.prompter.ask('Email address: ')
  visible.input.write('ada@example.com\r')
  t.equal(await email, 'ada@example.com')
  t.match(visible.written(), /Email address: .*ada@example\.com/)
  visible.prompter.close()

  const ended = terminal()
  ended.input.end()
  await t.rejects(ended.prompter.askHidden('Password: '), { message: /input ended/, exitCode: 1 })

  const cancelled = terminal()
  const asked = cancelled.prompter.askHidden('Password: ')
  cancelled.input.write('secr\u0003')
  await t.rejects(asked, { message: 'Cancelled.', exitCode: 130 })
  t.notMatch(cancelled.written(), 'secr')
})

t.test('without --no-input stdin must be a terminal; with it the password comes from PORTCULLIS_PASSWORD', async t => {
  const context = (isTTY: boolean, env: Record<string, string> = {}) => ({ env, stdin: Object.assign(new PassThrough(), { isTTY }), stderr: new PassThrough() }) as unknown as CliContext
  t.throws(() => interactive(context(false), false), new CliError('Cannot prompt for the password: stdin is not a terminal. Run it in a terminal, or pass --no-input and set PORTCULLIS_PASSWORD in the environment.'))
  t.equal(interactive(context(false), true), undefined)
  const prompter = interactive(context(true), false)
  t.ok(prompter)
  prompter?.close()
  t.equal(passwordFromEnvironment(context(false, { PORTCULLIS_PASSWORD: PASSWORD })), PASSWORD)
  t.throws(() => passwordFromEnvironment(context(false)), { message: /PORTCULLIS_PASSWORD/ })
})

t.test('parseCommandLine names what is missing or extra; wantsHelp stops at --', async t => {
  const options = { reason: { type: 'string' }, json: { type: 'boolean' } } as const
  t.match(parseCommandLine(['ada', '--reason', 'spam'], options, { required: ['user'] }), { values: { reason: 'spam' }, positionals: ['ada'] })
  t.throws(() => parseCommandLine([], options, { required: ['user', 'group'] }), new UsageError('Missing <user> <group>.'))
  t.throws(() => parseCommandLine(['a', 'b', 'c'], options, { required: ['user'] }), new UsageError('Unexpected arguments: b c.'))
  t.same(parseCommandLine(['a', 'b', 'c'], options, { required: ['user'], rest: true }).positionals, ['a', 'b', 'c'])
  t.throws(() => parseCommandLine(['--force'], options), new UsageError("Unknown option '--force'."))
  t.same(parseCommandLine(['--', '--reason'], options, { optional: ['text'] }).positionals, ['--reason'])
  t.ok(wantsHelp(['ada', '-h']))
  t.ok(wantsHelp(['--help']))
  t.notOk(wantsHelp(['ada', '--', '--help']))
})

t.test('--until takes ISO 8601 dates and times, and only real days', async t => {
  t.equal(parseUntil('2030-01-31').toISOString(), '2030-01-31T00:00:00.000Z')
  t.equal(parseUntil('2030-01-31T18:00:00+02:00').toISOString(), '2030-01-31T16:00:00.000Z')
  t.equal(parseUntil('2030-01-31T18:00Z').toISOString(), '2030-01-31T18:00:00.000Z')
  for (const bad of ['2030-02-30', '2030-13-01', 'tomorrow', '1893456000', '2030-01-31T25:00Z', '']) {
    t.throws(() => parseUntil(bad), UsageError, bad)
  }
})

const hasScript = spawnSync('script', ['--version']).status === 0

t.test('create-superuser asks for the password on a real terminal without echoing it', { skip: hasScript ? false : 'util-linux script is not installed' }, async t => {
  const db = await tempDatabase(t)
  const command = [process.execPath, ...SOURCE_LOADER_ARGS, cli, 'create-superuser', '--email', 'root@example.com', '--username', 'root']
    .map(word => `'${word}'`).join(' ')
  // script runs the command on a pseudo-terminal: stdin is a TTY for the CLI, as for a person.
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: { PATH: process.env.PATH, ...NO_CHILD_COVERAGE, ...db.env } })
  let output = ''
  const answers = [['Password: ', `${PASSWORD}\r`], ['Password (again): ', `${PASSWORD}\r`]]
  child.stdout.on('data', chunk => {
    output += chunk
    // Typed only once the prompt is there: earlier, the terminal would still be echoing.
    const next = answers[0]
    if (next !== undefined && output.endsWith(next[0])) {
      answers.shift()
      child.stdin.write(next[1])
    }
  })
  // No deadline (a busy machine may be slow): a prompt that never comes is caught by tap's timeout.
  const code = await new Promise(resolve => child.on('close', resolve))
  t.equal(code, 0, output)
  t.match(output, /Password: \r?\nPassword \(again\): \r?\nCreated superuser root <root@example\.com>/)
  t.notMatch(output, PASSWORD, 'the password is not echoed')
  t.match(await db.query('SELECT is_superuser, email_verified FROM users'), [{ is_superuser: 1, email_verified: 1 }])
})
