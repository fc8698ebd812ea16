// A recorded download URL as a model set's source: a Hugging Face repo file
// at its revision, a Civitai model version, or the plain URL.
import type { ModelSetSource } from '../../shared/modelSet'
import { parseCivitai } from './civitai'
import { civitaiEndpoint, hfEndpoint } from './endpoints'
import { parseHfUrl } from './huggingface'

export function setSourceOf(url: string, env: NodeJS.ProcessEnv = process.env): ModelSetSource {
  const hf = safely(() => parseHfUrl(url, env))
  if (hf?.path) return { kind: 'huggingface', repo: hf.repo, file: hf.path, revision: hf.revision }
  const civitai = safely(() => parseCivitai(url, env))
  // A download link's query (type, format, fp) picks one file of the version: keep the URL then.
  if (civitai?.versionId && !civitai.query?.size)
    return { kind: 'civitai', versionId: civitai.versionId }
  return { kind: 'url', url }
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
