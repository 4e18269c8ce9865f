// The error of a database that must already exist and does not (the CLI never creates one).

/** The database is not there (a missing SQLite file, a PostgreSQL database never migrated). The message names where it looked. */
export class DatabaseMissingError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'DatabaseMissingError'
  }
}
