// Human sizes and durations, shared by the dashboard and the CLI:
// "22.2 GB", "15.0 MB/s", "13 min", "1 h 5 min".

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const

/** Decimal units, one decimal from KB up ("22.2 GB"), as file managers show. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '—'
  let v = bytes
  let u = 0
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000
    u++
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${UNITS[u]}`
}

export function formatSpeed(bytesPerSecond: number | null | undefined): string {
  if (!bytesPerSecond || bytesPerSecond <= 0) return '—'
  return `${formatBytes(bytesPerSecond)}/s`
}

/** Seconds → "45 s", "13 min", "1 h 5 min", "2 d 3 h". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0)
    return '—'
  const s = Math.round(seconds)
  if (s < 60) return `${s} s`
  const m = Math.round(s / 60)
  if (m < 60) return `${m} min`
  const h = Math.floor(m / 60)
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`
  const d = Math.floor(h / 24)
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`
}

/** Epoch ms → "just now", "5 min ago", "3 h ago", "2 d ago". */
export function formatAgo(epochMs: number | null | undefined, now = Date.now()): string {
  if (!epochMs) return 'never'
  const s = Math.max(0, (now - epochMs) / 1000)
  if (s < 45) return 'just now'
  return `${formatDuration(s)} ago`
}
