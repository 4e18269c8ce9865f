// Scope syntax: RFC 6749 §3.3 scope-tokens (printable ASCII without space, `"` or `\`), at most
// 100 characters each, at most 50 per client; a request names them space-separated.

/** One scope-token, as a JSON Schema pattern. */
export const SCOPE_TOKEN_PATTERN = '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$'
export const MAX_SCOPE_LENGTH = 100
export const MAX_SCOPES = 50

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/

/** The tokens of a `scope` parameter, or undefined when it does not follow the syntax. */
export function parseScope (scope: string): string[] | undefined {
  const tokens = scope.split(' ')
  return tokens.every(token => SCOPE_TOKEN.test(token)) ? [...new Set(tokens)] : undefined
}
