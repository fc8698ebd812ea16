// The seeded demo state the view screenshots and the README pictures are
// taken from: a local ComfyUI with models in several folders, fixed sizes and
// fixed dates, and background hashing off so no row changes while a picture
// is taken. Files are sparse: their sizes look real without using the disk.
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  utimesSync,
  writeFileSync,
  ftruncateSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from './serveProcess'

const MB = 1_000_000
/** 2026-11-20 12:00 UTC, then a day apart per file. */
const T0 = Date.UTC(2026, 10, 20, 12) / 1000

const FILES: [folder: string, name: string, bytes: number][] = [
  ['checkpoints', 'sd_xl_base_1.0.safetensors', 69 * MB],
  ['checkpoints', 'juggernautXL_v9.safetensors', 71 * MB],
  ['diffusion_models', 'flux1-dev-fp8.safetensors', 119 * MB],
  ['loras', 'film_grain.safetensors', 18 * MB],
  ['loras/flux', 'anime_style_v2.safetensors', 37 * MB],
  ['loras/flux', 'detail_tweaker.safetensors', 9 * MB],
  ['vae', 'ae.safetensors', 33 * MB],
  ['text_encoders', 't5xxl_fp8_e4m3fn.safetensors', 49 * MB],
  ['upscale_models', '4x-UltraSharp.pth', 7 * MB]
]

function sparse(path: string, bytes: number): void {
  const fd = openSync(path, 'w')
  try {
    ftruncateSync(fd, bytes)
  } finally {
    closeSync(fd)
  }
}

export async function seedDemo(): Promise<{ home: string; comfy: string; env: NodeJS.ProcessEnv }> {
  const base = mkdtempSync(join(tmpdir(), 'podpull-demo-'))
  const comfy = join(base, 'ComfyUI')
  const home = join(base, 'home')
  mkdirSync(home)
  FILES.forEach(([folder, name, bytes], i) => {
    const dir = join(comfy, 'models', folder)
    mkdirSync(dir, { recursive: true })
    const file = join(dir, name)
    sparse(file, bytes)
    utimesSync(file, T0 + i * 86400, T0 + i * 86400)
  })
  // A download that stopped half way, for the library's "unfinished" list.
  const part = join(comfy, 'models', 'checkpoints', 'realvisxl_v5.safetensors.part')
  sparse(part, 12 * MB)
  utimesSync(part, T0, T0)
  const env = { PODPULL_HOME: home }
  const add = await runCli(['targets', 'add-local', 'studio', '--comfyui', comfy], env)
  if (add.code !== 0) throw new Error(`targets add-local failed: ${add.out}`)
  const config = join(home, 'config.json')
  const conf = JSON.parse(readFileSync(config, 'utf8')) as { settings?: Record<string, unknown> }
  conf.settings = { ...conf.settings, backgroundHashing: false, autoResume: false }
  writeFileSync(config, JSON.stringify(conf, null, 2))
  return { home, comfy, env }
}
