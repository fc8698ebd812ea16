// `podpull resolve`, `podpull models` and `podpull workflow missing`: what a
// link means, what a target has, and what a workflow still needs (issue 10).
import type { Command } from 'commander'
import type { ApiArgs, ApiMethod, ApiResults } from '../shared/api'
import type { ResolvedFile, TargetInfo } from '../shared/types'
import { formatBytes } from '../shared/format'

export interface CliContext {
  call<M extends ApiMethod>(m: M, args: ApiArgs<M>): Promise<ApiResults[M]>
  openTarget(name: string): Promise<TargetInfo>
  targetByName(name: string): Promise<TargetInfo>
  exit(code: number, message: string): Error
}

const USAGE = 2
const out = (s: string): void => void process.stdout.write(s)
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
      if (o.json) return out(`${JSON.stringify(r, null, 2)}\n`)
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
      if (r.warning) process.stderr.write(`Warning: ${r.warning}\n`)
    })

  program
    .command('models')
    .description('installed models of a target, by folder')
    .requiredOption('--target <name>', 'target name')
    .option('--search <text>', 'only names containing this text')
    .option('--json', 'print JSON')
    .action(async (o: { target: string; search?: string; json?: boolean }) => {
      const info = await ctx.openTarget(o.target)
      const inv = await ctx.call('listInstalled', { targetId: info.id })
      const q = o.search?.toLowerCase()
      const hit = (n: string): boolean => !q || n.toLowerCase().includes(q)
      const models = inv.models.filter((m) => hit(m.name))
      const partials = inv.partials.filter((m) => hit(m.name))
      if (o.json) return out(`${JSON.stringify({ ...inv, models, partials }, null, 2)}\n`)
      if (inv.warning) process.stderr.write(`Warning: ${inv.warning}\n`)
      let folder = ''
      for (const m of models) {
        if (m.folder !== folder) out(`${(folder = m.folder)}/\n`)
        const when = new Date(m.mtime * 1000).toISOString().slice(0, 10)
        out(`  ${m.name}  ${formatBytes(m.size)}  ${when}${m.extra ? `  (${m.path})` : ''}\n`)
      }
      if (!models.length) out('No models found.\n')
      for (const p of partials)
        out(`unfinished: ${p.folder}/${p.name}  ${formatBytes(p.size)} so far (${p.path})\n`)
    })
}
