// Small statistics for noisy measurements.

/** The median; NaN for no values. */
export function median (values: number[]): number {
  const sorted = values.filter(v => !Number.isNaN(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
