// `grant` and `revoke`: a user's own permissions, by codename.
import { OPERATOR } from '../admin/access.js'
import { setUserPermissions } from '../admin/users.js'
import type { AuthDeps } from '../deps.js'
import { CliError, parseCommandLine, type CliContext, type Command } from './command.js'
import { describeUser, findUser } from './users.js'

/** Unknown codenames are an error that lists the ones there are. */
async function assertKnown (deps: AuthDeps, codenames: string[]): Promise<void> {
  const known = await deps.repositories.authorization.existingPermissions(codenames)
  const unknown = codenames.filter(codename => !known.includes(codename))
  if (unknown.length === 0) return
  const all = (await deps.repositories.authorization.listPermissions()).map(permission => permission.codename)
  throw new CliError(`No permission ${unknown.map(codename => `"${codename}"`).join(', ')}. The permissions are: ${all.join(', ')}.`)
}

/** What both commands start with: the user, its own permissions and groups, and the codenames named once each. */
async function readRequest (args: string[], cli: CliContext) {
  const { positionals: [name, ...codenames] } = parseCommandLine(args, {}, { required: ['user', 'permission'], rest: true })
  const deps = await cli.deps()
  const user = await findUser(deps, name)
  await assertKnown(deps, codenames)
  return { deps, user, direct: await deps.repositories.authorization.direct(user.id), wanted: [...new Set(codenames)] }
}

const EXIT_HELP = `Exit status: 0 when done (also when there was nothing to do); 1 when there is no such user or
permission; 78 when the configuration is not valid.`

export const grant: Command = {
  name: 'grant',
  summary: 'Give a user a permission.',
  help: `Usage: portcullis grant <user> <permission>...

Gives <user> (an email address or a username) one or more permissions of its own, by codename
(e.g. users.view). Granting a permission the user already has changes nothing. The next access
token of the user carries it; Portcullis's own endpoints see it at once.

Options:
  -h, --help   Show this help.

${EXIT_HELP}
`,
  async run (args, cli) {
    const { deps, user, direct, wanted } = await readRequest(args, cli)
    const own = direct.permissions
    const added = wanted.filter(codename => !own.includes(codename))
    const held = wanted.filter(codename => own.includes(codename))
    if (added.length > 0) {
      await setUserPermissions(deps, OPERATOR, user.id, [...own, ...added])
      cli.stdout.write(`Granted ${added.join(', ')} to ${describeUser(user)}.\n`)
    }
    if (held.length > 0) cli.stdout.write(`${describeUser(user)} already had ${held.join(', ')}.\n`)
    if (user.isSuperuser) cli.stdout.write('(A superuser has every permission in any case.)\n')
  }
}

export const revoke: Command = {
  name: 'revoke',
  summary: 'Take a permission away from a user.',
  help: `Usage: portcullis revoke <user> <permission>...

Takes one or more of its own permissions away from <user> (an email address or a username).
Permissions the user has through a group stay (see remove-from-group), and a superuser keeps
every permission; the command says so when that is the case.

Options:
  -h, --help   Show this help.

${EXIT_HELP}
`,
  async run (args, cli) {
    const { deps, user, direct, wanted } = await readRequest(args, cli)
    const removed = wanted.filter(codename => direct.permissions.includes(codename))
    const notHeld = wanted.filter(codename => !removed.includes(codename))
    if (removed.length > 0) {
      await setUserPermissions(deps, OPERATOR, user.id, direct.permissions.filter(codename => !removed.includes(codename)))
      cli.stdout.write(`Revoked ${removed.join(', ')} from ${describeUser(user)}.\n`)
    }
    if (notHeld.length > 0) cli.stdout.write(`${describeUser(user)} did not have ${notHeld.join(', ')} of its own.\n`)
    for (const codename of wanted) {
      const groups = direct.groups.filter(group => group.permissions.includes(codename)).map(group => group.name)
      if (groups.length > 0) cli.stdout.write(`${describeUser(user)} still has ${codename} through ${groups.length === 1 ? 'group' : 'groups'} ${groups.join(', ')}.\n`)
    }
    if (user.isSuperuser) cli.stdout.write('(A superuser has every permission in any case.)\n')
  }
}
