// Builds the images ComfyUI saves: a PNG with tEXt "prompt"/"workflow"
// chunks (and an iTXt variant), and a WebP whose EXIF carries
// "workflow:{…}" — so the parser is tested on real container layouts.
import { crc32 } from 'node:zlib'

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(td))
  return Buffer.concat([len, td, crc])
}

const IHDR = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0])
const IDAT = Buffer.from([0x78, 0x9c, 0x62, 0, 0, 0, 0, 5, 0, 1, 0x0d, 0x0a, 0x2d, 0xb4])

export function pngWithWorkflow(texts: Record<string, string>, itxt = false): Buffer {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  const meta = Object.entries(texts).map(([k, v]) =>
    itxt
      ? chunk(
          'iTXt',
          Buffer.concat([Buffer.from(`${k}\0\0\0\0\0`, 'latin1'), Buffer.from(v, 'utf8')])
        )
      : chunk('tEXt', Buffer.concat([Buffer.from(`${k}\0`, 'latin1'), Buffer.from(v, 'latin1')]))
  )
  return Buffer.concat([
    sig,
    chunk('IHDR', IHDR),
    ...meta,
    chunk('IDAT', IDAT),
    chunk('IEND', Buffer.alloc(0))
  ])
}

/** A WebP (VP8L 1×1) with an EXIF chunk: TIFF header and two ASCII tags
 *  (0x010f Make = "workflow:{…}", 0x0110 Model = "prompt:{…}"), as ComfyUI writes. */
export function webpWithWorkflow(workflow: string, prompt: string): Buffer {
  const a = Buffer.from(`workflow:${workflow}\0`, 'utf8')
  const b = Buffer.from(`prompt:${prompt}\0`, 'utf8')
  const ifd = Buffer.alloc(2 + 2 * 12 + 4)
  ifd.writeUInt16LE(2, 0)
  const dataStart = 8 + ifd.length
  ;[
    [0x010f, a, dataStart],
    [0x0110, b, dataStart + a.length]
  ].forEach(([tag, buf, off], i) => {
    const at = 2 + i * 12
    ifd.writeUInt16LE(tag as number, at)
    ifd.writeUInt16LE(2, at + 2)
    ifd.writeUInt32LE((buf as Buffer).length, at + 4)
    ifd.writeUInt32LE(off as number, at + 8)
  })
  const tiff = Buffer.concat([Buffer.from('II*\0', 'latin1'), Buffer.from([8, 0, 0, 0]), ifd, a, b])
  const vp8l = Buffer.from([0x2f, 0, 0, 0, 0, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07, 0])
  const riffChunk = (type: string, data: Buffer): Buffer => {
    const h = Buffer.alloc(8)
    h.write(type, 0, 'latin1')
    h.writeUInt32LE(data.length, 4)
    return Buffer.concat([h, data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)])
  }
  const body = Buffer.concat([
    Buffer.from('WEBP', 'latin1'),
    riffChunk('VP8L', vp8l),
    riffChunk('EXIF', tiff)
  ])
  const head = Buffer.alloc(8)
  head.write('RIFF', 0, 'latin1')
  head.writeUInt32LE(body.length, 4)
  return Buffer.concat([head, body])
}
