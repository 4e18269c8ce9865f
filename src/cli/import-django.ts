// `import-django`: bring a Django user base (users, groups, permissions, password hashes) into Portcullis.
import { CliError, parseCommandLine, UsageError, type Command } from './command.js'

export const importDjangoCommand: Command = {
  name: 'import-django',
  summary: 'Import the users, groups and permissions of a Django database.',
  help: `Usage: portcullis import-django --from <django database> [--user-table <table>] [--dry-run] [--skip-refused]
                              [--emails-verified]

Reads the Django database <django database> (the path of its SQLite file, or a postgres:// URL) and
writes into the database DATABASE_URL names, in one transaction:

  - every permission of auth_permission, as <app_label>.<codename> (auth.change_group);
  - every group of auth_group with its permissions;
  - every user of auth_user (or --user-table, a custom model with AbstractUser's columns): email,
    username, is_active, is_staff, is_superuser, date_joined, last_login, its groups and own
    permissions, its password hash as Django stored it, and Django's id as legacy_id (admins see it).

An address counts as verified (email_verified, which REQUIRE_EMAIL_VERIFICATION asks for) when
django-allauth's account_emailaddress table says it was, or for every user with --emails-verified
(Django itself never verifies addresses: say so only if the old deployment did). A verification made
here is kept on later runs while the address stays the same.

Django's password hashes (pbkdf2_sha256, pbkdf2_sha1, bcrypt_sha256, bcrypt, argon2, scrypt) are
verified as they are and re-hashed to bcrypt at the first login; an unusable password (set_unusable_
password) becomes no password: a password reset or social login. The Django database is only read.

Run it again to bring the changes made in Django since: users are matched by legacy_id and updated,
never duplicated, and a run with nothing new changes nothing. A password changed here (a login
re-hashed it, or a reset) is never replaced by Django's. Groups and permissions made here stay.

A user row is refused, and listed with the reason, when it has no email address, an email address or
username the API would refuse, the same email (compared case-insensitively) or username as another
Django user, or the email or username of a Portcullis account that was not imported from it. If any
row is refused, nothing is written, unless --skip-refused is given.

Options:
  --from <database>     The Django database: a SQLite file path, or postgres://user:pass@host/db.
  --user-table <table>  The user table of a custom user model (default auth_user), e.g. accounts_user.
  --dry-run             Report what would be written, and write nothing.
  --skip-refused        Import the valid rows even when some are refused.
  --emails-verified     Every imported address is marked verified (the old deployment verified them).
  -h, --help            Show this help.

Exit status: 0 when everything was imported (or, with --dry-run, would be); 1 when rows were refused
(nothing written unless --skip-refused), the Django database cannot be read or is not one; 66 when
DATABASE_URL does not exist; 78 when the configuration is not valid.
`,
  async run (args, cli) {
    const { values } = parseCommandLine(args, {
      from: { type: 'string' },
      'user-table': { type: 'string' },
      'dry-run': { type: 'boolean' },
      'skip-refused': { type: 'boolean' },
      'emails-verified': { type: 'boolean' }
    })
    if (values.from === undefined || values.from === '') throw new UsageError('Missing --from <django database>.')
    const userTable = values['user-table'] ?? 'auth_user'
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(userTable)) throw new UsageError(`--user-table must be a table name (letters, digits and _); got "${userTable}".`)
    const dryRun = values['dry-run'] === true
    const skipRefused = values['skip-refused'] === true
    const emailsVerified = values['emails-verified'] === true

    const deps = await cli.deps()
    const { openDjangoSource, DjangoSourceError } = await import('../../db/django-source.js')
    const { importDjango, DjangoImportError } = await import('../django/import.js')
    let source
    try {
      source = await openDjangoSource(values.from)
    } catch (err) {
      if (err instanceof DjangoSourceError) throw new CliError(err.message)
      throw err
    }
    let report
    try {
      report = await importDjango(deps.repositories, source, { userTable, dryRun, skipRefused, emailsVerified, now: deps.now() })
    } catch (err) {
      if (err instanceof DjangoImportError) throw new CliError(err.message)
      if (err instanceof Error && err.name === 'UniqueViolation') {
        throw new CliError(`An account was created meanwhile with the ${(err as Error & { field: string }).field} of an imported user; nothing was written. Run the import again.`)
      }
      throw err
    } finally {
      await source.close()
    }

    const out = cli.stdout
    const would = report.written ? '' : 'would be '
    out.write(`${dryRun ? 'Dry run: nothing was written.\n' : ''}`)
    out.write(`Users: ${report.usersCreated} ${would}created, ${report.usersUpdated} ${would}updated, ${report.usersUnchanged} unchanged, ${report.refused.length} refused.\n`)
    out.write(`Groups: ${report.groupsCreated} ${would}created, ${report.groupsUpdated} ${would}updated. Permissions: ${report.permissionsCreated} ${would}created.\n`)
    if (report.blacklistedTokensRecorded > 0) {
      out.write(`Refresh tokens Django blacklisted: ${report.blacklistedTokensRecorded} ${would}recorded as used (the cut-over refuses them).\n`)
    }
    if (report.skippedPermissions.length > 0) {
      out.write(`Permissions skipped (their codename is not <app_label>.<codename> in lower case): ${report.skippedPermissions.join(', ')}\n`)
    }
    if (report.refused.length > 0) {
      out.write('Refused rows:\n')
      for (const row of report.refused) out.write(`  id ${row.legacyId} ${JSON.stringify(row.username)} <${row.email}>: ${row.reason}\n`)
      if (!report.written && !dryRun) {
        throw new CliError(`${report.refused.length} user row(s) refused (listed on stdout); nothing was written. Fix them in Django, or run again with --skip-refused to import the others.`)
      }
    }
  }
}
