// Django's UserAttributeSimilarityValidator: is a password too close to the account's own attributes?

/**
 * difflib's `SequenceMatcher(a, b).quick_ratio()`, ported as it is: an upper bound of `ratio()`
 * from the characters the two strings share (as multisets, order ignored), 2·M / (|a| + |b|), and 1
 * for two empty strings. Strings are compared by code point, as Python does.
 */
export function quickRatio (a: string, b: string): number {
  const left = [...a]
  const right = [...b]
  const inRight = new Map<string, number>()
  for (const char of right) inRight.set(char, (inRight.get(char) ?? 0) + 1)
  let matches = 0
  for (const char of left) {
    const available = inRight.get(char) ?? 0
    inRight.set(char, available - 1)
    if (available > 0) matches++
  }
  const length = left.length + right.length
  return length === 0 ? 1 : 2 * matches / length
}

/**
 * Django's shortcut: a value at most a tenth of the password's length (and under the similarity
 * bound) cannot reach the ratio, so it is skipped (a one-letter part of an email never refuses a
 * password). Lengths in code points, like Python's len().
 */
function exceedsMaximumLengthRatio (passwordLength: number, maxSimilarity: number, value: string): boolean {
  const valueLength = [...value].length
  return passwordLength >= 10 * valueLength && valueLength < maxSimilarity / 2 * passwordLength
}

// Python's `\W` on str: anything but a letter, a number (decimal, digit or numeric) or `_`.
const NON_WORD = /[^\p{L}\p{N}_]+/u

/** The Django default for `max_similarity`; Django refuses values under 0.1. */
export const DEFAULT_MAX_SIMILARITY = 0.7

/**
 * The first attribute (by name) the password is too similar to, as Django decides it: the password
 * and each value lower-cased, each value compared whole and in its parts split on non-word
 * characters (so `ada.lovelace@example.com` also as `ada`, `lovelace`, `example`, `com`), too
 * similar when `quick_ratio() >= maxSimilarity`.
 */
export function tooSimilarTo (password: string, attributes: Array<[name: string, value: string | undefined]>, maxSimilarity = DEFAULT_MAX_SIMILARITY): string | undefined {
  const lowered = password.toLowerCase()
  const passwordLength = [...lowered].length
  for (const [name, value] of attributes) {
    if (value === undefined || value === '') continue
    const valueLowered = value.toLowerCase()
    for (const part of [...valueLowered.split(NON_WORD), valueLowered]) {
      if (exceedsMaximumLengthRatio(passwordLength, maxSimilarity, part)) continue
      if (quickRatio(lowered, part) >= maxSimilarity) return name
    }
  }
  return undefined
}
