// A set is written with its Hugging Face revisions pinned to the commit each
// branch or tag points at (the Hub's revision API), asked once per repo and
// revision; what the Hub cannot answer keeps its revision.
import { beforeAll, describe, expect, it } from 'vitest'
import { HUB_COMMIT, type HubServers } from '../harness/hubServer'
import { hubAndCdn } from '../support/serverScratch'
import { pinRevisions } from '../../src/main/sources/setSource'
import { authFor, authHint } from '../../src/main/sources/tokens'
import type { ModelSetEntry } from '../../src/shared/modelSet'

const V2 = 'f'.repeat(8) + '0123456789abcdef0123456789abcdef'
const PINNED = '0'.repeat(39) + '7'
const servers = hubAndCdn()
let hub: HubServers
let env: NodeJS.ProcessEnv

beforeAll(() => {
  hub = servers.hub
  const cdn = servers.cdn
  env = { HF_ENDPOINT: hub.hfUrl, PODPULL_HF_HOSTS: new URL(hub.hfUrl).host }
  const file = cdn.addFile('/cdn/pin.safetensors', { size: 1000, seed: 'pin' })
  hub.addRepo({
    id: 'org/pin',
    files: [{ path: 'a.safetensors', cdn: file }],
    branches: { v2: V2 }
  })
  hub.addRepo({
    id: 'org/gated',
    files: [{ path: 'g.safetensors', cdn: file }],
    gated: true,
    token: 'hf_pin_token',
    commit: PINNED
  })
})

const hf = (repo: string, file: string, revision: string): ModelSetEntry => ({
  source: { kind: 'huggingface', repo, file, revision },
  folder: 'loras',
  name: file
})

describe('pinning a set to commits', () => {
  it('turns branches into commits, keeps commits and what the Hub does not know', async () => {
    const entries = [
      hf('org/pin', 'a.safetensors', 'main'),
      hf('org/pin', 'b.safetensors', 'main'),
      hf('org/pin', 'a.safetensors', 'v2'),
      hf('org/pin', 'a.safetensors', PINNED),
      hf('org/pin', 'a.safetensors', 'no-such-branch'),
      hf('org/missing', 'a.safetensors', 'main'),
      hf('org/gated', 'g.safetensors', 'main'), // asked with the token
      {
        source: { kind: 'url', url: 'https://example.com/x.safetensors' },
        folder: 'vae',
        name: 'x'
      }
    ] satisfies ModelSetEntry[]
    const before = hub.log.length
    const out = await pinRevisions(entries, {
      env,
      auth: (u) => authFor(u, (k) => (k === 'hf' ? 'hf_pin_token' : undefined), env),
      authHint: (u) => authHint(u, env)
    })
    const revs = out.map((e) => (e.source.kind === 'huggingface' ? e.source.revision : null))
    expect(revs).toEqual([
      HUB_COMMIT,
      HUB_COMMIT,
      V2,
      PINNED,
      'no-such-branch',
      'main',
      PINNED,
      null
    ])
    expect(out[7]).toEqual(entries[7])
    // One question per repo and revision; a commit needs none.
    const asked = hub.log.slice(before).map((l) => l.path)
    expect(asked.sort()).toEqual([
      '/api/models/org/gated/revision/main',
      '/api/models/org/missing/revision/main',
      '/api/models/org/pin/revision/main',
      '/api/models/org/pin/revision/no-such-branch',
      '/api/models/org/pin/revision/v2'
    ])
  })
})
