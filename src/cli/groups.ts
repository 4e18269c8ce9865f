// `add-to-group` and `remove-from-group`: a user's group memberships, by group name.
import { OPERATOR } from '../admin/access.js'
import { createGroup } from '../admin/groups.js'
import { setUserGroups } from '../admin/users.js'
import type { AuthDeps } from '../deps.js'
import type { GroupRecord } from '../../db/repositories.js'
import { CliError, parseCommandLine, type Command } from './command.js'
import { describeUser, findUser } from './users.js'

async function noSuchGroup (deps: AuthDeps, name: string, hint: string): Promise<CliError> {
  const names = (await deps.repositories.authorization.listGroups()).map(group => group.name)
  const known = names.length === 0 ? 'There are no groups yet.' : `The groups are: ${names.join(', ')}.`
  return new CliError(`No group named "${name}". ${known}${hint}`)
}

async function findGroup (deps: AuthDeps, name: string): Promise<GroupRecord | undefined> {
  return (await deps.repositories.authorization.findGroupsByName([name]))[0]
}

const EXIT_HELP = `Exit status: 0 when done (also when there was nothing to do); 1 when there is no such user or
group; 78 when the configuration is not valid.`

export const addToGroup: Command = {
  name: 'add-to-group',
  summary: 'Add a user to a group (--create to create the group).',
  help: `Usage: portcullis add-to-group <user> <group> [--create]

Adds <user> (an email address or a username) to the group named <group>; the user gets the
group's permissions. Adding a member again changes nothing.

Options:
  --create     Create the group (with no permissions) when there is none of that name.
  -h, --help   Show this help.

${EXIT_HELP}
`,
  async run (args, cli) {
    const { values, positionals: [name, groupName] } = parseCommandLine(args, { create: { type: 'boolean' } }, { required: ['user', 'group'] })
    const deps = await cli.deps()
    const user = await findUser(deps, name)
    let group = await findGroup(deps, groupName)
    if (group === undefined && values.create !== true) throw await noSuchGroup(deps, groupName, ' Pass --create to create it.')
    if (group === undefined) {
      if (groupName.trim() !== groupName || groupName === '') throw new CliError(`"${groupName}" is not a valid group name: it is empty or has spaces around it.`)
      group = await createGroup(deps, OPERATOR, { name: groupName })
      cli.stdout.write(`Created group ${group.name}.\n`)
    }
    const current = (await deps.repositories.authorization.direct(user.id)).groups.map(g => g.name)
    if (current.includes(group.name)) {
      cli.stdout.write(`${describeUser(user)} is already in group ${group.name}.\n`)
      return
    }
    await setUserGroups(deps, OPERATOR, user.id, [...current, group.name])
    cli.stdout.write(`Added ${describeUser(user)} to group ${group.name}.\n`)
  }
}

export const removeFromGroup: Command = {
  name: 'remove-from-group',
  summary: 'Remove a user from a group.',
  help: `Usage: portcullis remove-from-group <user> <group>

Removes <user> (an email address or a username) from the group named <group>; the user loses
the permissions it had only through that group.

Options:
  -h, --help   Show this help.

${EXIT_HELP}
`,
  async run (args, cli) {
    const { positionals: [name, groupName] } = parseCommandLine(args, {}, { required: ['user', 'group'] })
    const deps = await cli.deps()
    const user = await findUser(deps, name)
    const group = await findGroup(deps, groupName)
    if (group === undefined) throw await noSuchGroup(deps, groupName, '')
    const current = (await deps.repositories.authorization.direct(user.id)).groups.map(g => g.name)
    if (!current.includes(group.name)) {
      cli.stdout.write(`${describeUser(user)} is not in group ${group.name}.\n`)
      return
    }
    await setUserGroups(deps, OPERATOR, user.id, current.filter(g => g !== group.name))
    cli.stdout.write(`Removed ${describeUser(user)} from group ${group.name}.\n`)
  }
}
