// Django's CommonPasswordValidator: the 20,000 common passwords Django ships (provenance and licence: common-passwords.NOTICE).
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'

const LIST = new URL('./common-passwords.txt.gz', import.meta.url)

let common: Set<string> | undefined

/** Read once, on first use: about 20,000 lower-cased entries, one per line. */
function commonPasswords (): Set<string> {
  common ??= new Set(gunzipSync(readFileSync(LIST)).toString('utf8').split(/\r?\n/).map(line => line.trim()).filter(Boolean))
  return common
}

/** As Django compares: the password lower-cased and trimmed, against the (lower-cased) list. */
export function isCommonPassword (password: string): boolean {
  return commonPasswords().has(password.toLowerCase().trim())
}
