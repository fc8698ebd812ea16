// A recorded download URL as a model set's source: a Hugging Face repo file
// at its revision, a Civitai model version, or the plain URL.
import type { ModelSetEntry, ModelSetSource } from '../../shared/modelSet'
import { parseCivitai } from './civitai'
import { civitaiEndpoint, hfEndpoint } from './endpoints'
import { hfCommitOf, parseHfUrl } from './huggingface'
import type { ResolveOptions } from './resolution'

export function setSourceOf(url: string, env: NodeJS.ProcessEnv = process.env): ModelSetSource {
  const hf = safely(() => parseHfUrl(url, env))
  if (hf?.path) return { kind: 'huggingface', repo: hf.repo, file: hf.path, revision: hf.revision }
  const civitai = safely(() => parseCivitai(url, env))
  // A download link's query (type, format, fp) picks one file of the version: keep the URL then.
  if (civitai?.versionId && !civitai.query?.size)
    return { kind: 'civitai', versionId: civitai.versionId }
  return { kind: 'url', url }
}

/** The set's Hugging Face entries with their branch or tag replaced by the
 *  commit it points at now (one Hub question per repo and revision). An entry
 *  the Hub cannot answer for (offline, gated without a token) keeps its
 *  revision: the set is still usable, and the CLI says it is not pinned. */
export async function pinRevisions(
  entries: ModelSetEntry[],
  opts: ResolveOptions
): Promise<ModelSetEntry[]> {
  const asked = new Map<string, Promise<string | null>>()
  const commitOf = (repo: string, revision: string): Promise<string | null> => {
    const key = `${repo}@${revision}`
    if (!asked.has(key))
      asked.set(
        key,
        hfCommitOf(repo, revision, opts).catch(() => null)
      )
    return asked.get(key)!
  }
  return Promise.all(
    entries.map(async (e) => {
      if (e.source.kind !== 'huggingface') return e
      const commit = await commitOf(e.source.repo, e.source.revision)
      return commit ? { ...e, source: { ...e.source, revision: commit } } : e
    })
  )
}

/** The hub endpoints a set's sources are fetched from (mirrors honoured). */
export function setEndpoints(env: NodeJS.ProcessEnv = process.env): {
  huggingface: string
  civitai: string
} {
  return { huggingface: hfEndpoint(env).href, civitai: civitaiEndpoint(env).href }
}

function safely<T>(f: () => T): T | undefined {
  try {
    return f()
  } catch {
    return undefined
  }
}
