/**
 * Ages as kubectl shows them: precise while short ("45s", "2m30s"), coarser as they grow
 * ("3h", "2d4h", "40d"), so a column of ages stays narrow and still tells recent from old.
 */
export const humanDuration = (millis: number): string => {
  const seconds = Math.max(0, Math.floor(millis / 1000))
  if (seconds < 120) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`
  const hours = Math.floor(minutes / 60)
  if (hours < 3) return `${minutes}m`
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`
  const days = Math.floor(hours / 24)
  if (hours < 48) return `${hours}h`
  if (days < 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`
  return `${days}d`
}

/** Age of an ISO timestamp at `now`; "<unknown>" when there is none. */
export const ageOf = (iso: string | undefined, now: Date): string =>
  iso === undefined || Number.isNaN(Date.parse(iso)) ? "<unknown>" : humanDuration(now.getTime() - Date.parse(iso))
