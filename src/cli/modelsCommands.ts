// `podpull resolve`, `podpull models` and `podpull workflow missing`: what a
// link means, what a target has, and what a workflow still needs.
import type { Command } from 'commander'
import type { ApiArgs, ApiMethod, ApiResults } from '../shared/api'
import { readFile, stat } from 'node:fs/promises'
import type {
  DownloadRecord,
  ResolvedFile,
  TargetInfo,
  WorkflowCheck,
  WorkflowItem
} from '../shared/types'
import { downloadArgsFor } from '../shared/workflow/downloadArgs'
import { workflowTextOf } from '../shared/workflow/imageMetadata'
import { formatBytes } from '../shared/format'
import { say, sayJson, warn } from './terminalOut'

export interface CliContext {
  call<M extends ApiMethod>(m: M, args: ApiArgs<M>): Promise<ApiResults[M]>
  openTarget(name: string): Promise<TargetInfo>
  targetByName(name: string): Promise<TargetInfo>
  followJob(targetId: string, id: string): Promise<DownloadRecord>
  exit(code: number, message: string): Error
}

const USAGE = 2
const out = say
const size = (n: number | null): string => (n === null ? 'size unknown' : formatBytes(n))

/** The one file a link or AIR means (a repo link must name a file). */
export async function resolvedFile(ctx: CliContext, input: string): Promise<ResolvedFile> {
  const r = await ctx.call('resolveSource', { input })
  const f = r.files[r.selected]
  if (!f)
    throw ctx.exit(
      USAGE,
      `${r.title} has ${r.files.length} model files; pass the link of one: ${r.files.map((x) => x.label).join(', ')}`
    )
  return f
}

export function addModelsCommands(program: Command, ctx: CliContext): void {
  program
    .command('resolve <url>')
    .description('what a Hugging Face / Civitai link, AIR or any URL points at')
    .option('--json', 'print JSON')
    .action(async (input: string, o: { json?: boolean }) => {
      const r = await ctx.call('resolveSource', { input })
      if (o.json) return sayJson(r)
      out(
        `${r.title}  (${r.source}${r.modelType ? `, ${r.modelType}` : ''}${r.baseModel ? `, ${r.baseModel}` : ''})\n`
      )
      if (r.page) out(`  page: ${r.page}\n`)
      r.files.forEach((f, i) => {
        const mark = i === r.selected ? '*' : ' '
        out(`${mark} ${f.filename}  ${size(f.size)}  → models/${f.suggestedFolder}\n`)
        if (f.label !== f.filename) out(`    ${f.label}\n`)
        out(`    ${f.url}\n`)
        if (f.sha256) out(`    sha256 ${f.sha256}\n`)
      })
      if (r.selected < 0) out('Pick a file: download its link.\n')
      if (r.warning) warn(`Warning: ${r.warning}\n`)
    })

  program
    .command('models')
    .description('installed models of a target, by folder')
    .option('--target <name>', 'target name (without it, --hash looks on every target)')
    .option('--search <text>', 'only names containing this text')
    .option('--hash <sha256|autov2>', 'where this content is, and which Civitai model it is')
    .option('--duplicates', 'the same content under several names, and what linking gives back')
    .option('--keep-one <sha256>', 'keep one copy, make the other names hard links (undo-able)')
    .option('--keep <path>', 'with --keep-one: the copy to keep (default: the first listed)')
    .option('--confirm <change>', 'confirm a keep-one change: the old copies are deleted')
    .option('--undo <change>', 'undo a keep-one change: the old copies are put back')
    .option('--json', 'print JSON')
    .action(async (o: ModelsOptions) => {
      if (o.hash !== undefined) return findHash(ctx, o)
      if (!o.target) throw ctx.exit(USAGE, 'models needs --target <name> (or --hash).')
      const info = await ctx.openTarget(o.target)
      if (o.duplicates || o.keepOne || o.confirm || o.undo)
        return duplicatesCommand(ctx, info.id, o)
      const inv = await ctx.call('listInstalled', { targetId: info.id })
      const q = o.search?.toLowerCase()
      const hit = (n: string): boolean => !q || n.toLowerCase().includes(q)
      const models = inv.models.filter((m) => hit(m.name))
      const partials = inv.partials.filter((m) => hit(m.name))
      if (o.json) return sayJson({ ...inv, models, partials })
      if (inv.warning) warn(`Warning: ${inv.warning}\n`)
      let folder = ''
      for (const m of models) {
        if (m.folder !== folder) out(`${(folder = m.folder)}/\n`)
        const when = new Date(m.mtime * 1000).toISOString().slice(0, 10)
        out(`  ${m.name}  ${formatBytes(m.size)}  ${when}${m.extra ? `  (${m.path})` : ''}\n`)
        if (m.sha256) out(`    sha256 ${m.sha256}\n`)
        if (m.sameAs?.length) out(`    same file as ${m.sameAs.join(', ')}\n`)
      }
      if (!models.length) out('No models found.\n')
      for (const p of partials)
        out(`unfinished: ${p.folder}/${p.name}  ${formatBytes(p.size)} so far (${p.path})\n`)
    })

  program
    .command('workflow')
    .description('what a ComfyUI workflow needs')
    .command('missing <file>')
    .description(
      'models a workflow (JSON, or a PNG/WebP ComfyUI saved) needs that the target lacks'
    )
    .requiredOption('--target <name>', 'target name')
    .option('--json', 'print {"present", "missing", "unresolved", "unused", "refused"} as JSON')
    .option('--download', 'download every missing model that has a source, into its folder')
    .action(async (file: string, o: { target: string; json?: boolean; download?: boolean }) => {
      const info = await ctx.openTarget(o.target)
      const workflow = await readWorkflow(ctx, file)
      let check = await ctx.call('checkWorkflow', { targetId: info.id, workflow })
      if (o.download && check.missing.length) {
        const failed = await downloadAll(ctx, info.id, check.missing)
        check = await ctx.call('checkWorkflow', { targetId: info.id, workflow })
        if (failed) process.exitCode = 1
      }
      if (o.json) return sayJson(check)
      printCheck(check)
    })

  const catalog = program.command('catalog').description('curated starter sets of models')
  catalog
    .command('list', { isDefault: true })
    .description('the sets and their files (the default)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const c = await ctx.call('getCatalog', {})
      if (o.json) return sayJson(c)
      for (const s of c.sets) {
        out(`${s.id}  ${s.name}${s.gated ? '  (gated: accept the licence first)' : ''}\n`)
        for (const f of s.files) out(`    ${f.folder}/${f.name}  ${size(f.size)}\n`)
      }
    })
  catalog
    .command('download <set>')
    .description('download every file of a set into its folder')
    .requiredOption('--target <name>', 'target name')
    .action(async (id: string, o: { target: string }) => {
      const c = await ctx.call('getCatalog', {})
      const set = c.sets.find((s) => s.id === id)
      if (!set) throw ctx.exit(USAGE, `No catalog set "${id}"; see "podpull catalog".`)
      const info = await ctx.openTarget(o.target)
      const items = set.files.map((f) => ({
        name: f.name,
        directory: f.folder,
        url: f.url,
        nodes: [],
        ...(f.sha256 ? { sha256: f.sha256 } : {})
      }))
      if (await downloadAll(ctx, info.id, items)) process.exitCode = 1
    })
}

const MAX_FILE = 64 << 20

export async function readWorkflow(ctx: CliContext, file: string): Promise<string> {
  const s = await stat(file).catch(() => null)
  if (!s?.isFile()) throw ctx.exit(USAGE, `${file} is not a file.`)
  if (s.size > MAX_FILE)
    throw ctx.exit(USAGE, `${file} is larger than 64 MiB; that is not a ComfyUI workflow.`)
  try {
    return workflowTextOf(new Uint8Array(await readFile(file)))
  } catch (err) {
    throw ctx.exit(USAGE, (err as Error).message)
  }
}

/** Starts every download, then follows them all; true when one failed. */
async function downloadAll(
  ctx: CliContext,
  targetId: string,
  items: WorkflowItem[]
): Promise<boolean> {
  const ids: string[] = []
  let failed = false
  for (const item of items) {
    try {
      const res = await ctx.call('startDownload', { targetId, ...downloadArgsFor(item) })
      warn(`${res.outcome === 'already-present' ? 'Present' : 'Downloading'}: ${res.path}\n`)
      if (res.outcome !== 'already-present') ids.push(res.id)
    } catch (err) {
      failed = true
      warn(`Error: ${item.name}: ${(err as Error).message}\n`)
    }
  }
  for (const id of ids) {
    const r = await ctx.followJob(targetId, id)
    if (r.state !== 'completed') {
      failed = true
      warn(`Error: ${r.filename}: ${r.error ?? r.state}\n`)
    }
  }
  return failed
}

function printCheck(c: WorkflowCheck): void {
  const where = (i: WorkflowItem): string => `${i.directory ?? '?'}/${i.name}`
  out(`Present (${c.present.length})\n`)
  for (const i of c.present) out(`  ${where(i)}\n`)
  out(`Missing (${c.missing.length})\n`)
  for (const i of c.missing)
    out(`  ${where(i)}  ← ${i.url}${i.source === 'catalog' ? ' (catalog)' : ''}\n`)
  out(`Unresolved (${c.unresolved.length})\n`)
  for (const i of c.unresolved)
    out(`  ${where(i)}  search: ${i.search?.huggingface}  ${i.search?.civitai}\n`)
  if (c.unused.length) {
    out(`Not used by this workflow (${c.unused.length}; never downloaded)\n`)
    for (const i of c.unused) out(`  ${where(i)}  (${i.reason})\n`)
  }
  for (const r of c.refused) warn(`Refused: ${r.reason}\n`)
  if (c.missing.length) out('Run again with --download to fetch what is missing.\n')
}

interface ModelsOptions {
  target?: string
  search?: string
  hash?: string
  duplicates?: boolean
  keepOne?: string
  keep?: string
  confirm?: string
  undo?: string
  json?: boolean
}

/** `models --hash`: the files with this content on each target, and Civitai's answer. */
async function findHash(ctx: CliContext, o: ModelsOptions): Promise<void> {
  let targetId: string | undefined
  if (o.target) targetId = (await ctx.openTarget(o.target)).id
  else
    for (const t of (await ctx.call('getSnapshot', {})).targets)
      await ctx.openTarget(t.name).catch(() => undefined) // an offline pod says so below
  const r = await ctx.call('findByHash', { hash: o.hash!, ...(targetId ? { targetId } : {}) })
  if (o.json) return sayJson(r)
  for (const p of r.places) {
    if (p.error) out(`${p.targetName}: ${p.error}\n`)
    else if (!p.files.length) out(`${p.targetName}: not there (or not hashed yet)\n`)
    else for (const f of p.files) out(`${p.targetName}: ${f.folder}/${f.name}  ${f.path ?? ''}\n`)
  }
  const c = r.civitai
  if (c)
    out(
      `Civitai: ${c.modelName ?? `model ${c.modelId}`} · ${c.versionName ?? c.versionId}` +
        `${c.modelType ? ` (${c.modelType}${c.baseModel ? `, ${c.baseModel}` : ''})` : ''}` +
        `${c.fileName ? `  file ${c.fileName}` : ''}\n  ${c.page}\n`
    )
  else if (r.civitaiError) warn(`Civitai: ${r.civitaiError}\n`)
  else out('Civitai: no model version has a file with this hash.\n')
}

/** `models --duplicates`, `--keep-one`, `--confirm`, `--undo`. */
async function duplicatesCommand(
  ctx: CliContext,
  targetId: string,
  o: ModelsOptions
): Promise<void> {
  if (o.confirm || o.undo) {
    const r = await ctx.call('settleKeepOne', {
      targetId,
      op: (o.confirm ?? o.undo)!,
      undo: !o.confirm
    })
    if (o.json) return sayJson(r)
    for (const p of r.restored) out(`Put back: ${p}\n`)
    if (o.confirm) out(`Confirmed: ${formatBytes(r.reclaimed)} given back.\n`)
    return
  }
  if (o.keepOne) {
    const r = await ctx.call('keepOne', {
      targetId,
      sha256: o.keepOne,
      ...(o.keep ? { keep: o.keep } : {})
    })
    if (o.json) return sayJson(r)
    out(`Kept ${r.kept}\n`)
    for (const p of r.linked) out(`  linked: ${p}\n`)
    out(
      `The old copies are kept aside until you confirm (${formatBytes(r.reclaimable)} to give back):\n` +
        `  podpull models --target ${o.target} --confirm ${r.op}   or   --undo ${r.op}\n`
    )
    return
  }
  const [groups, pending, inv] = await Promise.all([
    ctx.call('listDuplicates', { targetId }),
    ctx.call('pendingKeepOnes', { targetId }),
    ctx.call('listInstalled', { targetId })
  ])
  const unhashed = inv.models.filter((m) => !m.sha256).length
  if (o.json) return sayJson({ duplicates: groups, pending, unhashed })
  for (const g of groups) {
    out(
      `${g.sha256}  ${formatBytes(g.size)} × ${g.files.length}, ${formatBytes(g.reclaimable)} to give back\n`
    )
    for (const f of g.files) out(`  ${f.folder}/${f.name}  ${f.path}\n`)
  }
  if (!groups.length) out('No duplicates among the hashed files.\n')
  for (const p of pending)
    out(`Pending keep-one ${p.op}: kept ${p.kept}; --confirm ${p.op} or --undo ${p.op}\n`)
  if (unhashed)
    out(
      `${unhashed} file${unhashed === 1 ? ' is' : 's are'} not hashed yet: the app and ` +
        '"podpull serve" hash them in the background.\n'
    )
}
