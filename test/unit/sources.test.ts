// URL, token and file-name rules: what reaches the disk and the wire.
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { authFor, authHint, tokenKindFor } from '../../src/main/sources/tokens'
import { stripSecrets } from '../../src/main/sources/urlSafety'
import { parsePastedUrl, pastedToken } from '../../src/main/sources/pastedUrl'
import { filenameFrom, sanitizeFilename } from '../../src/main/models/fileNames'
import { resolveDestination } from '../../src/main/models/destination'
import { suggestFolder } from '../../src/main/models/folders'
import { normalizeDownloadUrl, sourceOf } from '../../src/main/sources/sourceUrls'
import { plainText, terminalJson } from '../../src/shared/plainText'
import { failed, queuedEntry } from '../../src/main/status/jobEntries'

const tokens = { hf: 'hf_secret', civitai: 'civ_secret' }
const tokenOf = (k: 'hf' | 'civitai'): string => tokens[k]

describe('tokens go only to their own host', () => {
  it('picks the token by exact host', () => {
    expect(authFor(new URL('https://huggingface.co/a/b/resolve/main/x'), tokenOf, {})).toBe(
      'Bearer hf_secret'
    )
    expect(authFor(new URL('https://civitai.com/api/download/models/1'), tokenOf, {})).toBe(
      'Bearer civ_secret'
    )
  })
  it('sends nothing to a CDN or look-alike host', () => {
    for (const u of [
      'https://cdn-lfs.huggingface.co/x',
      'https://huggingface.co.evil.example/x',
      'https://example.com/x',
      'https://b2.civitai.com/file'
    ]) {
      expect(authFor(new URL(u), tokenOf, {})).toBeUndefined()
    }
  })
  it('maps extra hosts from the environment, with or without port', () => {
    const env = { PODPULL_HF_HOSTS: '127.0.0.1:8080, mirror.lan' }
    expect(tokenKindFor(new URL('http://127.0.0.1:8080/x'), env)).toBe('hf')
    expect(tokenKindFor(new URL('http://127.0.0.1:9090/x'), env)).toBeUndefined()
    expect(tokenKindFor(new URL('http://mirror.lan:1/x'), env)).toBe('hf')
  })
  it('names the fix for each host', () => {
    expect(authHint(new URL('https://civitai.com/x'), {})).toMatch(/CIVITAI_API_TOKEN/)
    expect(authHint(new URL('https://huggingface.co/x'), {})).toMatch(/HF_TOKEN/)
    expect(authHint(new URL('https://example.com/x'), {})).toBeUndefined()
  })
})

describe('URLs are stored without secrets', () => {
  it('drops credentials and secret query values, keeps the rest', () => {
    const s = stripSecrets(
      'https://user:pw@civitai.com/api/download/models/1?type=Model&token=abc&X-Amz-Signature=s'
    )
    expect(s).toBe('https://civitai.com/api/download/models/1?type=Model')
  })
  it('keeps a bare ?flag and every other part byte for byte', () => {
    expect(stripSecrets('https://h.example/f?flag&sig=x%2By&a=b%2Fc')).toBe(
      'https://h.example/f?flag&a=b%2Fc'
    )
    expect(stripSecrets('https://h.example/f?X-Amz-Signature=abc')).toBe('https://h.example/f')
  })
})

describe('a pasted link is fetched as given', () => {
  const signed =
    'https://bucket.s3.amazonaws.com/m.safetensors?X-Amz-Credential=AK%2F1&X-Amz-Signature=f00d&key=v'
  it('requests a presigned link exactly, shows it without its signature', () => {
    const p = parsePastedUrl(signed)
    expect(p.given).toBe(signed)
    expect(p.shown).toBe('https://bucket.s3.amazonaws.com/m.safetensors')
  })
  it('keeps a ?token= where it was pasted (Civitai reads it there, signed CDN links sign over it), shows it without', () => {
    const civitai = 'https://civitai.com/api/download/models/1?type=Model&token=abc'
    expect(parsePastedUrl(civitai)).toEqual({
      given: civitai,
      shown: 'https://civitai.com/api/download/models/1?type=Model'
    })
    const bunny = 'https://zone.b-cdn.net/m.safetensors?token=s1gn3d&expires=1767225600'
    expect(parsePastedUrl(bunny).given).toBe(bunny)
  })
  it("hands a resolver the token pasted in a hub link, for the hub's own API calls", () => {
    expect(pastedToken('https://civitai.com/models/1?token=abc')).toBe('abc')
    expect(pastedToken('https://civitai.com/models/1?api_key=k')).toBe('k')
    expect(pastedToken('https://civitai.com/models/1')).toBeUndefined()
  })
  it('refuses what is not an http(s) link', () => {
    expect(() => parsePastedUrl('file:///etc/passwd')).toThrow(/http\(s\) URL/)
  })
})

describe('file names from servers are made safe', () => {
  // Names as servers send them: test/vectors/filenames.json (fileNameVectors.test.ts).
  it('refuses names with nothing left', () => {
    expect(() => sanitizeFilename('../..')).toThrow(/not a usable file name/)
    expect(() => sanitizeFilename('...')).toThrow(/not a usable file name/)
  })
  it('prefers Content-Disposition, then the URL', () => {
    expect(
      filenameFrom('attachment; filename="../../evil.safetensors"', 'https://x.test/a.bin')
    ).toBe('evil.safetensors')
    expect(
      filenameFrom(
        "attachment; filename*=UTF-8''m%C3%BCller%20v2.safetensors",
        'https://x.test/a.bin'
      )
    ).toBe('müller v2.safetensors')
    expect(filenameFrom(null, 'https://x.test/dir/flux%201.safetensors?download=true')).toBe(
      'flux 1.safetensors'
    )
  })
})

describe('destinations stay inside models/', () => {
  const models = (): string => {
    const base = mkdtempSync(join(tmpdir(), 'podpull-dest-'))
    mkdirSync(join(base, 'models'))
    return join(base, 'models')
  }
  it('creates the folder and returns the final path', async () => {
    const m = models()
    await expect(resolveDestination(m, 'loras/flux', 'a.safetensors')).resolves.toBe(
      join(m, 'loras', 'flux', 'a.safetensors')
    )
  })
  it.each(['..', '../x', '/abs', 'a//b', 'a/../../b'])('refuses folder %j', async (folder) => {
    await expect(resolveDestination(models(), folder, 'a.safetensors')).rejects.toThrow(
      /sub-folder of models/
    )
  })
  it('refuses a symlinked folder that points outside', async () => {
    const m = models()
    symlinkSync(tmpdir(), join(m, 'loras'))
    await expect(resolveDestination(m, 'loras', 'a.safetensors')).rejects.toThrow(
      /outside the models folder/
    )
  })
  it('refuses a file name with a path in it', async () => {
    await expect(resolveDestination(models(), 'loras', '../a.safetensors')).rejects.toThrow(
      /plain file name/
    )
  })
})

describe('pasted pages become download URLs', () => {
  it('Hugging Face blob → resolve', () => {
    expect(
      normalizeDownloadUrl('https://huggingface.co/org/repo/blob/main/sub/x.safetensors')
    ).toBe('https://huggingface.co/org/repo/resolve/main/sub/x.safetensors')
  })
  it('Civitai model page with a version → API download', () => {
    expect(normalizeDownloadUrl('https://civitai.com/models/123/foo?modelVersionId=456')).toBe(
      'https://civitai.com/api/download/models/456'
    )
  })
  it('knows the source', () => {
    expect(sourceOf('https://huggingface.co/x')).toBe('huggingface')
    expect(sourceOf('https://civitai.com/x')).toBe('civitai')
    expect(sourceOf('https://example.com/x')).toBe('direct')
  })
})

describe('folder suggestions', () => {
  it.each([
    ['flux1-dev.safetensors', 'diffusion_models'],
    ['ae.safetensors', 'vae'],
    ['sdxl_vae.safetensors', 'vae'],
    ['t5xxl_fp16.safetensors', 'text_encoders'],
    ['clip_l.safetensors', 'text_encoders'],
    ['4x-UltraSharp.pth', 'upscale_models'],
    ['my_style_lora_v1.safetensors', 'loras'],
    ['control_v11p_sd15_canny.pth', 'controlnet'],
    ['clip_vision_g.safetensors', 'clip_vision'],
    ['juggernautXL_v9.safetensors', 'checkpoints'],
    ['flux1-dev-Q4_K_S.gguf', 'diffusion_models']
  ])('%s → %s', (name, folder) => expect(suggestFolder(name)).toBe(folder))
  it("uses Civitai's model type when known", () => {
    expect(suggestFolder('x.safetensors', { civitaiType: 'LORA' })).toBe('loras')
    expect(suggestFolder('x.pt', { civitaiType: 'TextualInversion' })).toBe('embeddings')
  })
})

describe('text from elsewhere is plain text', () => {
  it('drops C0 (but tab and LF), DEL, C1 and bidi controls; oneLine drops tab and LF too', () => {
    const s = 'a\u001b]52;c;eA==\u0007b\tc\nd\u009b1me\u202ef\u2066g\u007f\r'
    expect(plainText(s)).toBe('a]52;c;eA==b\tc\nd1mefg')
    expect(plainText(s, { oneLine: true })).toBe('a]52;c;eA==bcd1mefg')
  })
  it('JSON for a terminal is the same JSON, its controls written as \\u escapes', () => {
    const v = { e: 'x\u001b[2Jy\u009bz\u202e' }
    for (const c of ['\u001b', '\u009b', '\u202e']) expect(terminalJson(v)).not.toContain(c)
    expect(JSON.parse(terminalJson(v))).toEqual(v)
  })
  it('an error is stored without control sequences', () => {
    const e = failed(
      queuedEntry({
        id: 'i',
        url: 'https://h.test/f',
        folder: 'loras',
        filename: 'f',
        sha256: null,
        source: 'direct',
        connections: 1,
        owner: { host: 'h', pid: 1, engine: 'ts' },
        now: 1
      }),
      'Not\u001b]0;t\u0007 found',
      false
    )
    expect(e.error).toBe('Not]0;t found')
  })
})
