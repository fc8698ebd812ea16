// The hub-image route's decisions: which request names an image, which remote
// URLs main may fetch, what counts as an image, where the cache keeps it on
// each OS, and what the cache drops when it grows past its bound.
import { posix, win32 } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  HUB_IMAGE_PREFIX,
  cacheFileFor,
  cachedEntryOf,
  evictionPlan,
  imageIdFromRequest,
  imageIdOf,
  imageMime,
  imageSrcOf,
  imageUrlAllowed,
  thumbnailUrl
} from '../../src/main/sources/imageRoute'
import { routeAppRequest } from '../../src/main/electron/rendererProtocol'
import { pngOf } from '../harness/pictures'

const URL_A = 'https://image.civitai.com/xG1nkqKTMzGDvpLrqFT7WA/abc/width=1024/1.jpeg'
const ID = imageIdOf(URL_A)

describe('requests', () => {
  it('names an image by a hash of the URL main handed out, the same every run', () => {
    expect(ID).toMatch(/^[0-9a-f]{32}$/)
    expect(imageIdOf(URL_A)).toBe(ID)
    expect(imageIdOf(URL_A + '?x')).not.toBe(ID)
    expect(imageSrcOf(URL_A)).toBe(`${HUB_IMAGE_PREFIX}${ID}`)
    expect(imageIdFromRequest(`/hub-image/${ID}`)).toBe(ID)
    expect(imageIdFromRequest(`http://127.0.0.1:8080/hub-image/${ID}?v=1`)).toBe(ID)
    expect(imageIdFromRequest(`app://podpull/hub-image/${ID}`)).toBe(ID)
  })

  it.each([
    '/hub-image/',
    `/hub-image/${ID.toUpperCase()}`,
    `/hub-image/${ID}/x`,
    `/hub-image/${ID}.png`,
    `/hub-image/..%2f${ID}`,
    `/hub-images/${ID}`,
    `/assets/${ID}`,
    '/hub-image/https%3A%2F%2Fevil.example%2Fa.png'
  ])('%s is not an image request', (url) => {
    expect(imageIdFromRequest(url)).toBeNull()
  })
})

describe('app:// routes an image apart from the renderer files, wherever PodPull is installed', () => {
  it.each([
    ['Windows', win32, 'C:\\Program Files\\PodPull\\resources\\app.asar\\out\\renderer'],
    ['macOS', posix, '/Applications/PodPull.app/Contents/Resources/app.asar/out/renderer'],
    ['Linux', posix, '/opt/PodPull/resources/app.asar/out/renderer']
  ] as const)('%s', (_os, path, dir) => {
    expect(routeAppRequest(dir, `app://podpull/hub-image/${ID}`, path)).toEqual({
      kind: 'image',
      id: ID
    })
    expect(routeAppRequest(dir, 'app://podpull/index.html', path)).toEqual({
      kind: 'file',
      file: path.join(dir, 'index.html')
    })
    // Another host of the scheme is not ours, an image path or not.
    expect(routeAppRequest(dir, `app://evil/hub-image/${ID}`, path)).toBeNull()
    expect(routeAppRequest(dir, `app://podpull/hub-image/${ID}%2f..%2f..%2fmain`, path)).toBeNull()
  })
})

describe('which remote images main fetches', () => {
  it('https anywhere; plain http only from the machine of a plain-http hub endpoint', () => {
    expect(imageUrlAllowed(URL_A, [])).toBe(true)
    expect(imageUrlAllowed('http://image.civitai.com/a.png', [])).toBe(false)
    expect(imageUrlAllowed('http://127.0.0.1:4000/a.png', ['127.0.0.1'])).toBe(true)
    expect(imageUrlAllowed('http://127.0.0.2:4000/a.png', ['127.0.0.1'])).toBe(false)
    expect(imageUrlAllowed('https://user:pw@image.civitai.com/a.png', [])).toBe(false)
    expect(imageUrlAllowed('file:///etc/passwd', ['127.0.0.1'])).toBe(false)
    expect(imageUrlAllowed('data:image/png;base64,AAAA', [])).toBe(false)
    expect(imageUrlAllowed('not a url', [])).toBe(false)
  })

  it("asks Civitai's image CDN for a card-sized picture", () => {
    expect(thumbnailUrl(URL_A)).toBe(
      'https://image.civitai.com/xG1nkqKTMzGDvpLrqFT7WA/abc/width=450/1.jpeg'
    )
    expect(thumbnailUrl('https://image.civitai.com/a/b/1.jpeg')).toBe(
      'https://image.civitai.com/a/b/width=450/1.jpeg'
    )
    expect(thumbnailUrl('http://127.0.0.1:9/images/width=1024/1.png')).toBe(
      'http://127.0.0.1:9/images/width=1024/1.png'
    )
  })
})

describe('what counts as an image', () => {
  const png = pngOf(2, 2, [1, 2, 3])
  const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10])
  const webp = Buffer.from('RIFF\0\0\0\0WEBPVP8 ')
  const gif = Buffer.from('GIF89a\x01\0')
  const avif = Buffer.from('\0\0\0\x1cftypavif')

  it('takes the type the bytes show, when the answer says image/…', () => {
    expect(imageMime('image/png', png)).toBe('image/png')
    expect(imageMime('image/jpeg; charset=binary', jpeg)).toBe('image/jpeg')
    expect(imageMime('image/webp', webp)).toBe('image/webp')
    expect(imageMime('image/gif', gif)).toBe('image/gif')
    expect(imageMime('image/avif', avif)).toBe('image/avif')
    // A CDN that labels every picture image/jpeg still gets the right type served.
    expect(imageMime('image/jpeg', png)).toBe('image/png')
  })

  it('refuses SVG, HTML, missing types and bytes that are no image', () => {
    expect(imageMime('image/svg+xml', Buffer.from('<svg onload="x()">'))).toBeNull()
    expect(imageMime('text/html', png)).toBeNull()
    expect(imageMime(undefined, png)).toBeNull()
    expect(imageMime('image/png', Buffer.from('<!doctype html><html>'))).toBeNull()
    expect(imageMime('image/png', new Uint8Array())).toBeNull()
  })
})

describe('the disk cache', () => {
  it.each([
    ['Windows', win32, 'C:\\Users\\Zoë\\AppData\\Roaming\\PodPull\\cache\\hub-images'],
    ['macOS', posix, '/Users/zoe/Library/Application Support/PodPull/cache/hub-images'],
    ['Linux', posix, '/home/zoe/.config/PodPull/cache/hub-images']
  ] as const)('keeps an image as <id>.<ext> inside its folder on %s', (_os, path, dir) => {
    const file = cacheFileFor(dir, ID, 'image/webp', path)
    expect(file).toBe(path.join(dir, `${ID}.webp`))
    expect(path.dirname(file)).toBe(dir)
    expect(() => cacheFileFor(dir, '../../x', 'image/png', path)).toThrow()
    expect(() => cacheFileFor(dir, ID, 'image/svg+xml', path)).toThrow()
  })

  it('reads back only its own file names', () => {
    expect(cachedEntryOf(`${ID}.png`)).toEqual({ id: ID, mime: 'image/png' })
    expect(cachedEntryOf(`${ID}.png.123.tmp`)).toBeNull()
    expect(cachedEntryOf(`${ID}.svg`)).toBeNull()
    expect(cachedEntryOf('desktop.ini')).toBeNull()
  })

  it('drops the least recently used images until it is back under its bound', () => {
    const entries = [
      { name: 'a', size: 40, usedAt: 3 },
      { name: 'b', size: 40, usedAt: 1 },
      { name: 'c', size: 40, usedAt: 2 },
      { name: 'd', size: 40, usedAt: 4 }
    ]
    expect(evictionPlan(entries, 160)).toEqual([])
    expect(evictionPlan(entries, 100)).toEqual(['b', 'c'])
    expect(evictionPlan(entries, 0)).toEqual(['b', 'c', 'a', 'd'])
  })
})
