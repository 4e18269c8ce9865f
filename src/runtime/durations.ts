// Parses human durations ("30s", "5m", "12h", "7d", or bare seconds) into whole seconds.
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }

export function parseDuration (value: string): number | undefined {
  const match = /^(\d+)\s*([smhdw]?)$/i.exec(value.trim())
  if (!match) return undefined
  const amount = Number(match[1])
  const unit = (match[2] || 's').toLowerCase()
  const seconds = amount * UNIT_SECONDS[unit]
  return Number.isSafeInteger(seconds) ? seconds : undefined
}
