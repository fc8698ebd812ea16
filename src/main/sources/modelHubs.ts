// Is a link one of the model hubs PodPull resolves (Hugging Face, Civitai)?
import { parseCivitai } from './civitai'
import { parseHfUrl } from './huggingface'

export function isModelHubLink(input: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(parseHfUrl(input, env) ?? parseCivitai(input, env))
}
