// Is a link one of the model hubs PodPull resolves (Hugging Face, Civitai)?
import { parseCivitai } from './civitai'
import { parseHfUrl } from './huggingface'

export function isModelHubLink(input: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(parseHfUrl(input, env) ?? parseCivitai(input, env))
}

/** A token pasted in the link (`?token=`) goes on to the resolved download URL
 *  of the same hub; the target takes it out of the URL into a header and
 *  stores the URL without it. */
export function withPastedToken(resolved: string, pasted: string): string {
  if (!URL.canParse(pasted) || !URL.canParse(resolved)) return resolved
  const token = new URL(pasted).searchParams.get('token')
  if (!token) return resolved
  const u = new URL(resolved)
  u.searchParams.set('token', token)
  return u.toString()
}
