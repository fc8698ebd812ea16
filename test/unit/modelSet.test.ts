// The model set file: a valid set parses; every bad entry is named by index,
// field and line; sources become the URLs a download starts from.
import { describe, expect, it } from 'vitest'
import { entryUrl, ModelSetError, parseModelSet } from '../../src/shared/modelSet'

const sha = 'a'.repeat(64)
const good = {
  format: 'podpull-model-set',
  version: 1,
  name: 'flux basics',
  models: [
    {
      source: {
        kind: 'huggingface',
        repo: 'org/repo',
        file: 'sub/x.safetensors',
        revision: 'main'
      },
      folder: 'diffusion_models',
      name: 'x.safetensors',
      size: 10,
      sha256: sha.toUpperCase()
    },
    { source: { kind: 'civitai', versionId: 123 }, folder: 'loras', name: 'y.safetensors' },
    { source: { kind: 'local' }, folder: 'loras', name: 'mine.safetensors', sha256: sha }
  ]
}

function problems(text: string): string[] {
  try {
    parseModelSet(text)
  } catch (err) {
    expect(err).toBeInstanceOf(ModelSetError)
    return (err as ModelSetError).problems
  }
  throw new Error('parsed a bad set')
}

describe('model set file', () => {
  it('parses a valid set and lower-cases sha256', () => {
    const s = parseModelSet(JSON.stringify(good))
    expect(s.models).toHaveLength(3)
    expect(s.models[0]!.sha256).toBe(sha)
  })

  it('names the bad entry, its field and its line', () => {
    const bad = structuredClone(good)
    bad.models[1]!.folder = '../outside'
    const text = JSON.stringify(bad, null, 2)
    const line = text.split('\n').findIndex((l) => l.includes('"civitai"')) // inside entry 1
    const [p] = problems(text)
    expect(p).toMatch(/^models\[1\]\.folder: must be a folder inside models\//)
    const at = Number(/\(line (\d+)\)/.exec(p!)![1])
    expect(at).toBeLessThanOrEqual(line + 1)
    expect(at).toBeGreaterThan(line - 3)
  })

  it('a local entry without sha256, a wrong version and broken JSON are each named', () => {
    const noSha = structuredClone(good) as { models: Record<string, unknown>[] }
    delete noSha.models[2]!.sha256
    expect(problems(JSON.stringify(noSha))[0]).toMatch(
      /^models\[2\]\.sha256: a "local" entry must carry its sha256/
    )
    expect(problems(JSON.stringify({ ...good, version: 2 }))[0]).toMatch(/^version: must be 1/)
    expect(problems('{"models": [')[0]).toMatch(/^not JSON/)
    const badSource = structuredClone(good) as { models: { source: unknown }[] }
    badSource.models[0]!.source = { kind: 'ftp', url: 'ftp://x' }
    expect(problems(JSON.stringify(badSource))[0]).toMatch(/^models\[0\]\.source\.kind/)
  })

  it('turns sources into download URLs on the configured endpoints', () => {
    const s = parseModelSet(JSON.stringify(good))
    const ep = { huggingface: 'http://127.0.0.1:9/', civitai: 'https://civitai.com' }
    expect(entryUrl(s.models[0]!.source, ep)).toBe(
      'http://127.0.0.1:9/org/repo/resolve/main/sub/x.safetensors'
    )
    expect(entryUrl(s.models[1]!.source, ep)).toBe('https://civitai.com/api/download/models/123')
    expect(entryUrl(s.models[2]!.source, ep)).toBeNull()
  })
})
