// Where a social login may send the browser back to: only the allow-list, compared as URLs, not strings.

/**
 * Whether `target` falls under one of the allowed prefixes: the same scheme, host and port, and a path
 * at or below the prefix's path on a segment boundary. So `https://app.example.com/auth` allows
 * `https://app.example.com/auth/done?x=1` but not `https://app.example.com/authx`,
 * `https://app.example.com.evil.test/auth` or `https://evil.test/?https://app.example.com/auth`.
 */
export function isAllowedRedirect (target: string, allowlist: readonly string[]): boolean {
  let url: URL
  try {
    url = new URL(target)
  } catch {
    return false
  }
  // Credentials in a redirect target only serve to confuse whoever reads the URL.
  if (url.username !== '' || url.password !== '') return false
  return allowlist.some(entry => {
    const allowed = new URL(entry)
    if (allowed.protocol !== url.protocol || allowed.host !== url.host) return false
    const prefix = allowed.pathname
    return prefix.endsWith('/') ? url.pathname.startsWith(prefix) : url.pathname === prefix || url.pathname.startsWith(`${prefix}/`)
  })
}

/** The target with extra query parameters (an error code after a failed login), keeping its own. */
export function withQuery (target: string, parameters: Record<string, string>): string {
  const url = new URL(target)
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value)
  return url.href
}
