// What a download row shows and allows, derived from its record. Kept out of
// the component so it is cheap (one pass per record change) and testable.
import { formatBytes, formatDuration, formatSpeed } from '../../shared/format'
import type { DownloadRecord, JobState } from '../../shared/types'

export type RowAction =
  'pause' | 'resume' | 'relink' | 'cancel' | 'retry' | 'remove' | 'open' | 'copy'

export const STATE_LABEL: Record<JobState, string> = {
  queued: 'Queued',
  starting: 'Starting',
  downloading: 'Downloading',
  paused: 'Paused',
  verifying: 'Verifying',
  completed: 'Completed',
  error: 'Failed',
  cancelled: 'Cancelled'
}

const MOVING: JobState[] = ['queued', 'starting', 'downloading']

/** An upload has no link to renew or copy: its source is a file on the sending computer. */
const NOT_FOR_UPLOADS: RowAction[] = ['relink', 'copy']

export function actionsFor(
  state: JobState,
  canOpenFolder: boolean,
  kind?: DownloadRecord['kind']
): RowAction[] {
  const all = downloadActions(state, canOpenFolder)
  return kind === 'upload' ? all.filter((a) => !NOT_FOR_UPLOADS.includes(a)) : all
}

function downloadActions(state: JobState, canOpenFolder: boolean): RowAction[] {
  const a: RowAction[] = []
  if (MOVING.includes(state)) a.push('pause')
  if (state === 'paused') a.push('resume', 'relink')
  if ([...MOVING, 'paused', 'verifying'].includes(state)) a.push('cancel')
  if (state === 'error' || state === 'cancelled') a.push('retry')
  // An expired link is the usual reason a download fails: go on from its .part.
  if (state === 'error') a.push('relink')
  if (state === 'completed' && canOpenFolder) a.push('open')
  a.push('copy')
  if (state === 'completed' || state === 'error' || state === 'cancelled') a.push('remove')
  return a
}

/** The state badge's word ("Uploading" for a push while bytes flow). */
export function stateLabel(r: DownloadRecord): string {
  return r.kind === 'upload' && r.state === 'downloading' ? 'Uploading' : STATE_LABEL[r.state]
}

export interface RowText {
  percent: number
  amount: string
  speed: string
  eta: string
}

export function rowText(r: DownloadRecord): RowText {
  const percent =
    r.state === 'completed' ? 100 : Math.max(0, Math.min(100, Math.round(r.progress * 10) / 10))
  const total = r.fileSize === null ? 'unknown size' : formatBytes(r.fileSize)
  const amount =
    r.state === 'completed'
      ? formatBytes(r.fileSize ?? r.downloaded)
      : `${formatBytes(r.downloaded)} / ${total}`
  const moving = r.state === 'downloading'
  return {
    percent,
    amount,
    speed: moving ? formatSpeed(r.speed) : '',
    eta: moving && r.eta !== null ? `${formatDuration(r.eta)} left` : ''
  }
}
