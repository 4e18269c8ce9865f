// Which database a DATABASE_URL names, and how to name it in a message without its password.

export type DatabaseKind = 'sqlite' | 'postgres'

/** `postgres://` and `postgresql://` are PostgreSQL; `file:<path>` and `:memory:` SQLite; anything else undefined. */
export function databaseKind (url: string): DatabaseKind | undefined {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres'
  if (url === ':memory:' || (url.startsWith('file:') && url.length > 'file:'.length)) return 'sqlite'
  return undefined
}

/**
 * `host:port/database` of a PostgreSQL URL: what an operator needs to find the server, and never
 * the user's password (a socket directory given as `?host=` counts as the host).
 */
export function describePostgresUrl (url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'an unparsable PostgreSQL URL'
  }
  const host = decodeURIComponent(parsed.hostname) || parsed.searchParams.get('host') || 'localhost'
  const port = parsed.port || parsed.searchParams.get('port') || '5432'
  const database = decodeURIComponent(parsed.pathname.slice(1))
  return database === '' ? `${host}:${port}` : `${host}:${port}/${database}`
}

/** The password of a PostgreSQL URL, if it has one: to scrub from any message that might echo it. */
export function postgresPassword (url: string): string | undefined {
  try {
    const password = decodeURIComponent(new URL(url).password)
    return password === '' ? undefined : password
  } catch {
    return undefined
  }
}
