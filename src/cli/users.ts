// Naming users on the command line: by email or by username, whichever the operator typed.
import type { UserRecord } from '../../db/repositories.js'
import type { AuthDeps } from '../deps.js'
import { normaliseEmail } from '../accounts/identifiers.js'
import { CliError } from './command.js'

/**
 * The user whose email or username is `name`. A username may contain `@`, so both are looked up; when
 * they name two different users the operator must pick with the other identifier.
 */
export async function findUser (deps: AuthDeps, name: string): Promise<UserRecord> {
  const { users } = deps.repositories
  const byEmail = name.includes('@') ? await users.findByEmail(normaliseEmail(name)) : undefined
  const byUsername = await users.findByUsername(name)
  if (byEmail !== undefined && byUsername !== undefined && byEmail.id !== byUsername.id) {
    throw new CliError(`"${name}" is ambiguous: it is the email of ${byEmail.username} and the username of ${byUsername.email}. ` +
      `Name the user by ${byEmail.username} or by ${byUsername.email} instead.`)
  }
  const user = byEmail ?? byUsername
  if (user === undefined) throw new CliError(`No user with the email or username "${name}".`)
  return user
}

/** "ada <ada@example.com>", how commands name a user in their output. */
export function describeUser (user: Pick<UserRecord, 'email' | 'username'>): string {
  return `${user.username} <${user.email}>`
}
