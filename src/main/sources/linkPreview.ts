// What a pasted Hugging Face or Civitai link is, said before anything is
// downloaded: name, kind, base model, the file's size and folder, whether it
// is gated or needs a token, and for Civitai its preview pictures and trigger
// words. A link the user may not download yet is still described (with what
// to do about it); a link that names nothing, or a hub that cannot be
// reached, is a clear error.
import type { LinkPreview, PreviewImage, Resolution } from '../../shared/types'
import { UserError } from '../errors'
import { checkAccess, describeCivitai, inEarlyAccess } from './civitai'
import type { CivImage, CivVersion, HfInfo } from './hubJson'
import { fileOf, hfRepoInfo, parseHfUrl, resolveHf } from './huggingface'
import type { HubImages } from './hubImages'
import { thumbnailUrl } from './imageRoute'
import type { ResolveOptions } from './resolution'
import { hubRequest } from './resolve'
import { stripSecrets } from './urlSafety'

/** Pictures shown at most; the rest of a model's gallery is on its page. */
const MAX_IMAGES = 4

export async function previewLink(
  input: string,
  opts: ResolveOptions,
  images: HubImages
): Promise<LinkPreview> {
  const req = hubRequest(input, opts)
  if (!req)
    throw new UserError(
      'bad-request',
      'Only Hugging Face and Civitai links (or a Civitai AIR) have a preview; other links are checked when the download starts.'
    )
  const p =
    req.hub === 'civitai'
      ? await civitaiPreview(req.link, req.opts, images)
      : await hfPreview(req.link, req.opts)
  return { ...p, resolution: { ...p.resolution, input: stripSecrets(p.resolution.input) } }
}

const TYPE_WORDS: Record<string, string> = {
  LORA: 'LoRA',
  LoCon: 'LyCORIS (LoCon)',
  DoRA: 'DoRA',
  TextualInversion: 'Embedding',
  Controlnet: 'ControlNet',
  MotionModule: 'Motion module'
}

async function civitaiPreview(
  link: string,
  opts: ResolveOptions,
  images: HubImages
): Promise<LinkPreview> {
  const { res, version } = await describeCivitai(link, opts)
  const gated = inEarlyAccess(version)
  const access = await accessOf(() => checkAccess(res, version, opts), gated)
  const pictures = (version.images ?? []).filter((i) => (i.type ?? 'image') === 'image')
  const shown = pictures.filter((i) => !mature(i))
  return {
    resolution: res,
    name: version.model?.name ?? res.title,
    version: version.name ?? null,
    type: res.modelType ? (TYPE_WORDS[res.modelType] ?? res.modelType) : null,
    baseModel: res.baseModel,
    license: null,
    gated,
    ...access,
    triggerWords: trainedWords(version),
    images: shown.flatMap((i) => imageOf(i, images)).slice(0, MAX_IMAGES),
    hiddenImages: pictures.length - shown.length
  }
}

/** Civitai marks each picture's rating; only those rated for everyone are
 *  shown without asking (a preview pops up while the user pastes). */
function mature(i: CivImage): boolean {
  if (i.nsfwLevel !== undefined) return i.nsfwLevel > 1
  return i.nsfw !== undefined && i.nsfw !== false && i.nsfw !== 'None'
}

function imageOf(i: CivImage, images: HubImages): PreviewImage[] {
  const src = images.register(thumbnailUrl(i.url))
  return src ? [{ src, width: i.width ?? null, height: i.height ?? null }] : []
}

/** Trigger words, each once, trimmed (creators paste them with stray commas and spaces). */
function trainedWords(v: CivVersion): string[] {
  const words = (v.trainedWords ?? []).map((w) => w.trim().replace(/,+$/, '').trim())
  return [...new Set(words.filter(Boolean))].slice(0, 50)
}

/** public / granted / needs-token from the hub's answer to a download check. */
async function accessOf(
  check: () => Promise<unknown>,
  restricted: boolean
): Promise<Pick<LinkPreview, 'access' | 'accessNote'>> {
  try {
    await check()
    return { access: restricted ? 'granted' : 'public', accessNote: null }
  } catch (err) {
    if ((err as UserError).code !== 'auth') throw err
    return { access: 'needs-token', accessNote: (err as Error).message }
  }
}

const FOLDER_WORDS: Record<string, string> = {
  checkpoints: 'Checkpoint',
  diffusion_models: 'Diffusion model',
  unet: 'Diffusion model',
  loras: 'LoRA',
  vae: 'VAE',
  text_encoders: 'Text encoder',
  clip: 'Text encoder',
  clip_vision: 'CLIP vision',
  controlnet: 'ControlNet',
  upscale_models: 'Upscaler',
  embeddings: 'Embedding'
}

async function hfPreview(link: string, opts: ResolveOptions): Promise<LinkPreview> {
  const ref = parseHfUrl(link, opts.env)!
  // Asked first: a repo that does not exist is said plainly, whatever the file.
  const info = await hfRepoInfo(ref, opts)
  const gated = info.gated !== undefined && info.gated !== false && info.gated !== 'false'
  let res: Resolution | undefined
  const access = await accessOf(async () => {
    res = await resolveHf(link, opts)
  }, gated)
  res ??= gatedResolution(link, ref, info, opts)
  const card = info.cardData ?? {}
  const base = [card.base_model ?? []].flat()
  const file = res.files[res.selected]
  return {
    resolution: res,
    name: ref.repo,
    version: ref.revision,
    type: (file && FOLDER_WORDS[file.suggestedFolder.split('/')[0]!]) ?? info.pipeline_tag ?? null,
    baseModel: base.length ? base.join(', ') : null,
    license: card.license ?? null,
    gated,
    ...access,
    triggerWords: [],
    images: [],
    hiddenImages: 0
  }
}

/** A gated file the Hub will not describe without access: its size and
 *  sha256 come from the public file list instead. */
function gatedResolution(
  link: string,
  ref: NonNullable<ReturnType<typeof parseHfUrl>>,
  info: HfInfo,
  opts: ResolveOptions
): Resolution {
  const sib = info.siblings?.find((s) => s.rfilename === ref.path)
  if (!sib)
    throw new UserError(
      'not-found',
      `${ref.path} was not found in ${ref.repo} (revision ${ref.revision}).`
    )
  const sha = sib.lfs?.sha256 && /^[0-9a-f]{64}$/i.test(sib.lfs.sha256) ? sib.lfs.sha256 : null
  return {
    input: link,
    source: 'huggingface',
    title: ref.repo,
    page: `https://huggingface.co/${ref.repo}`,
    files: [fileOf(ref, ref.path, sib.lfs?.size ?? sib.size, sha?.toLowerCase() ?? null, opts.env)],
    selected: 0,
    modelType: null,
    baseModel: null,
    warning: null
  }
}
