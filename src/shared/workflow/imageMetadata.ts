// The workflow ComfyUI saves inside its images: PNG text chunks (tEXt, or
// uncompressed iTXt) named "workflow" (UI format) and "prompt" (API format),
// and WebP EXIF strings "workflow:{…}" / "prompt:{…}". Pure byte parsing, so
// the dashboard and main share it (no Node APIs).

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
const latin1 = new TextDecoder('latin1')
const utf8 = new TextDecoder('utf-8')

export interface EmbeddedWorkflow {
  /** UI-format workflow JSON text, when present. */
  workflow?: string
  /** API-format prompt JSON text, when present. */
  prompt?: string
}

export const isPng = (b: Uint8Array): boolean => PNG_SIG.every((v, i) => b[i] === v)
export const isWebp = (b: Uint8Array): boolean =>
  latin1.decode(b.subarray(0, 4)) === 'RIFF' && latin1.decode(b.subarray(8, 12)) === 'WEBP'

export function pngText(b: Uint8Array): EmbeddedWorkflow {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const out: EmbeddedWorkflow = {}
  let at = 8
  while (at + 12 <= b.length) {
    const len = view.getUint32(at)
    const type = latin1.decode(b.subarray(at + 4, at + 8))
    const data = b.subarray(at + 8, Math.min(b.length, at + 8 + len))
    if (type === 'tEXt' || type === 'iTXt') {
      const nul = data.indexOf(0)
      const key = latin1.decode(data.subarray(0, nul))
      let text: string | undefined
      if (type === 'tEXt') text = utf8.decode(data.subarray(nul + 1))
      else if (data[nul + 1] === 0) {
        // iTXt: keyword\0 flag method lang\0 translated\0 text (only uncompressed)
        let p = nul + 3
        p = data.indexOf(0, p) + 1
        p = data.indexOf(0, p) + 1
        if (p > 0) text = utf8.decode(data.subarray(p))
      }
      if (text !== undefined && (key === 'workflow' || key === 'prompt')) out[key] = text
    }
    if (type === 'IEND') break
    at += 12 + len
  }
  return out
}

export function webpExif(b: Uint8Array): EmbeddedWorkflow {
  const out: EmbeddedWorkflow = {}
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  let at = 12
  while (at + 8 <= b.length) {
    const type = latin1.decode(b.subarray(at, at + 4))
    const len = view.getUint32(at + 4, true)
    if (type === 'EXIF') {
      const text = utf8.decode(b.subarray(at + 8, Math.min(b.length, at + 8 + len)))
      for (const key of ['workflow', 'prompt'] as const) {
        const i = text.indexOf(`${key}:{`)
        if (i < 0) continue
        const end = text.indexOf('\0', i)
        out[key] = text.slice(i + key.length + 1, end < 0 ? undefined : end)
      }
    }
    at += 8 + len + (len % 2)
  }
  return out
}

/** The workflow JSON text of a dropped file: the file itself, or the one in an image. */
export function workflowTextOf(bytes: Uint8Array): string {
  if (isPng(bytes) || isWebp(bytes)) {
    const meta = isPng(bytes) ? pngText(bytes) : webpExif(bytes)
    const text = meta.workflow ?? meta.prompt
    if (!text)
      throw new Error(
        'This image has no ComfyUI workflow in it (it was not saved by ComfyUI, or its metadata was removed).'
      )
    return text
  }
  return utf8.decode(bytes)
}
