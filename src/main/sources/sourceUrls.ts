// What users paste is often a page, not a file: a Hugging Face "blob" page or a
// Civitai model page. Turn those into the download URL they mean.
import type { SourceKind } from '../../shared/types'

export function sourceOf(url: string): SourceKind {
  const host = new URL(url).hostname.toLowerCase()
  if (host === 'huggingface.co' || host === 'hf.co' || host.endsWith('.huggingface.co'))
    return 'huggingface'
  if (host === 'civitai.com' || host.endsWith('.civitai.com')) return 'civitai'
  return 'direct'
}

export function normalizeDownloadUrl(url: string): string {
  const u = new URL(url)
  const host = u.hostname.toLowerCase()
  if (host === 'huggingface.co' || host === 'hf.co') {
    // /org/repo/blob/<rev>/<path> → /org/repo/resolve/<rev>/<path>
    const m = /^(\/[^/]+\/[^/]+)\/blob\/(.+)$/.exec(u.pathname)
    if (m) {
      u.pathname = `${m[1]}/resolve/${m[2]}`
      u.searchParams.delete('download')
    }
    return u.toString()
  }
  if (host === 'civitai.com' || host === 'www.civitai.com') {
    // /models/<id>[/slug]?modelVersionId=<v> → /api/download/models/<v>
    const version = u.searchParams.get('modelVersionId')
    if (/^\/models\/\d+/.test(u.pathname) && version && /^\d+$/.test(version)) {
      const out = new URL(`https://civitai.com/api/download/models/${version}`)
      const token = u.searchParams.get('token')
      if (token) out.searchParams.set('token', token)
      return out.toString()
    }
  }
  return url
}
