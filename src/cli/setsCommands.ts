// `podpull sets export|apply`: a target's models as a model set file, and a
// set applied to many targets at once (each target gets what it lacks, in
// parallel across targets; each target's own queue limit holds within it).
import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import {
  formatModelSet,
  HF_COMMIT,
  ModelSetError,
  parseModelSet,
  type ModelSet
} from '../shared/modelSet'
import type {
  DownloadRecord,
  DownloadsChangedEvent,
  SetApplyStart,
  TargetInfo
} from '../shared/types'
import { formatBytes } from '../shared/format'
import { readWorkflow, type CliContext } from './modelsCommands'
import { TERMINAL } from './follow'
import { say, warn } from './terminalOut'

const FAILED = 1
const USAGE = 2
const MAX_SET_FILE = 16 << 20

/** The downloads of every target as they change (the core). */
export interface JobSource {
  on(event: 'downloadsChanged', cb: (ev: DownloadsChangedEvent) => void): unknown
  off(event: 'downloadsChanged', cb: (ev: DownloadsChangedEvent) => void): unknown
  downloads(): DownloadRecord[]
}

export interface SetsContext extends CliContext {
  jobs(): Promise<JobSource>
  /** A volume target's fill pod: made sure of before its work (`yes` accepts
   *  creating one), and removed once its queue is done. No-ops for other targets. */
  volumePod: {
    ensure(info: TargetInfo, yes: boolean | undefined): Promise<void>
    settle(info: TargetInfo): Promise<void>
  }
}

interface Outcome {
  target: string
  fetched: string[]
  skipped: string[]
  failed: { name: string; why: string }[]
}

export function addSetsCommands(program: Command, ctx: SetsContext): void {
  const sets = program.command('sets').description('model sets: export a setup, apply it anywhere')
  sets
    .command('export')
    .description("print a target's installed models as a model set (*.podpull.json)")
    .requiredOption('--target <name>', 'target name')
    .option('--folder <folder...>', 'only these model folders (repeatable)')
    .option('--name <name>', 'the set name (default: "<target> models")')
    .action(async (o: { target: string; folder?: string[]; name?: string }) => {
      const info = await ctx.openTarget(o.target)
      const set = await ctx.call('exportSet', {
        targetId: info.id,
        ...(o.folder?.length ? { folders: o.folder } : {}),
        ...(o.name ? { name: o.name } : {})
      })
      writeSet(set)
      const local = set.models.filter((m) => m.source.kind === 'local').length
      warn(
        `${set.models.length} models${local ? `, ${local} with no known source ("local": push them)` : ''}\n`
      )
    })

  sets
    .command('from-catalog <id>')
    .description('print a starter catalog entry as a model set')
    .action(async (id: string) => {
      writeSet(await ctx.call('catalogSet', { id }))
    })

  sets
    .command('from-workflow <file>')
    .description('print the models a workflow uses (present on the target and missing) as a set')
    .requiredOption('--target <name>', 'the target its present models are taken from')
    .option('--name <name>', 'the set name')
    .action(async (file: string, o: { target: string; name?: string }) => {
      const info = await ctx.openTarget(o.target)
      const workflow = await readWorkflow(ctx, file)
      const r = await ctx.call('workflowSet', {
        targetId: info.id,
        workflow,
        ...(o.name ? { name: o.name } : {})
      })
      writeSet(r.set)
      for (const l of r.left) warn(`Not in the set: ${l.folder ?? '?'}/${l.name} (${l.reason})\n`)
    })

  sets
    .command('apply <file>')
    .description('give every target what it lacks of a set (idempotent)')
    .requiredOption('--target <name...>', 'target name (repeat for many targets)')
    .option('--yes', 'accept what would otherwise ask (e.g. a volume fill pod)')
    .action(async (file: string, o: { target: string[]; yes?: boolean }) => {
      const set = await readSet(ctx, file)
      const names = [...new Set(o.target)]
      for (const n of names) await ctx.targetByName(n) // a typo fails before any work starts
      const jobs = await ctx.jobs()
      const results = await Promise.all(names.map((n) => applyToTarget(ctx, jobs, set, n, o.yes)))
      printSummary(set, results)
      if (results.some((r) => r.failed.length)) process.exitCode = FAILED
    })
}

/** Prints a set, and says which Hugging Face entries could not be pinned to a commit. */
function writeSet(set: ModelSet): void {
  process.stdout.write(formatModelSet(set))
  for (const m of set.models)
    if (m.source.kind === 'huggingface' && !HF_COMMIT.test(m.source.revision))
      warn(
        `Not pinned to a commit (the Hub did not say which commit "${m.source.revision}" is): ${m.source.repo}/${m.source.file}\n`
      )
}

async function readSet(ctx: CliContext, file: string): Promise<ModelSet> {
  let text: string
  try {
    const buf = await readFile(file)
    if (buf.length > MAX_SET_FILE) throw new Error('larger than 16 MiB; not a model set')
    text = buf.toString('utf8')
  } catch (err) {
    throw ctx.exit(USAGE, `${file}: ${(err as Error).message}`)
  }
  try {
    return parseModelSet(text)
  } catch (err) {
    if (err instanceof ModelSetError) throw ctx.exit(USAGE, `${file}: ${err.message}`)
    throw err
  }
}

async function applyToTarget(
  ctx: SetsContext,
  jobs: JobSource,
  set: ModelSet,
  name: string,
  yes: boolean | undefined
): Promise<Outcome> {
  const out: Outcome = { target: name, fetched: [], skipped: [], failed: [] }
  let info: TargetInfo
  try {
    info = await ctx.targetByName(name)
    await ctx.volumePod.ensure(info, yes)
  } catch (err) {
    out.failed.push({ name: '(whole set)', why: (err as Error).message })
    return out
  }
  try {
    return await fillTarget(ctx, jobs, set, name, out)
  } finally {
    await ctx.volumePod.settle(info).catch((err: Error) => warn(`[${name}] ${err.message}\n`))
  }
}

async function fillTarget(
  ctx: CliContext,
  jobs: JobSource,
  set: ModelSet,
  name: string,
  out: Outcome
): Promise<Outcome> {
  let r: SetApplyStart
  try {
    const targetId = (await ctx.openTarget(name)).id
    r = await ctx.call('applySet', { targetId, set })
  } catch (err) {
    out.failed.push({ name: '(whole set)', why: (err as Error).message })
    return out
  }
  for (const s of r.skipped) {
    out.skipped.push(s.label)
    warn(`[${name}] present, skipped: ${s.label}\n`)
  }
  for (const f of r.failed) out.failed.push({ name: f.label, why: f.why })
  if (r.started.length) warn(`[${name}] fetching ${r.started.length} of ${set.models.length}\n`)
  for (const s of r.started)
    if (set.models[s.index]?.source.kind === 'local') warn(`[${name}] sending ${s.label}\n`)
  const ends = await Promise.all(r.started.map((s) => settle(jobs, s.id, name)))
  ends.forEach((end, i) => {
    const label = r.started[i]!.label
    if (end.state === 'completed') out.fetched.push(label)
    else out.failed.push({ name: label, why: end.error ?? `ended ${end.state}` })
  })
  return out
}

/** Resolves once the job ends, on the core's change events (a terminal state
 *  is always announced); a line of progress every few seconds meanwhile. */
function settle(jobs: JobSource, id: string, target: string): Promise<DownloadRecord> {
  let lastLine = Date.now()
  return new Promise((resolve) => {
    const check = (r: DownloadRecord | undefined): void => {
      if (!r) return
      if (TERMINAL.has(r.state)) {
        jobs.off('downloadsChanged', onEvent)
        resolve(r)
      } else if (Date.now() - lastLine >= 5000) {
        lastLine = Date.now()
        const total = r.fileSize ? ` / ${formatBytes(r.fileSize)}` : ''
        warn(`[${target}] ${r.filename}: ${r.progress}%  ${formatBytes(r.downloaded)}${total}\n`)
      }
    }
    const onEvent = (ev: DownloadsChangedEvent): void => check(ev.upserts.find((r) => r.id === id))
    jobs.on('downloadsChanged', onEvent)
    check(jobs.downloads().find((r) => r.id === id))
  })
}

function printSummary(set: ModelSet, results: Outcome[]): void {
  say(`Set "${set.name}" (${set.models.length} models)\n`)
  for (const r of results) {
    const complete = r.failed.length === 0
    say(
      `${r.target}: ${complete ? 'complete' : 'INCOMPLETE'} — fetched ${r.fetched.length}, skipped ${r.skipped.length} (present), failed ${r.failed.length}\n`
    )
    for (const f of r.failed) say(`  failed ${f.name}: ${f.why}\n`)
  }
  const ok = results.filter((r) => !r.failed.length).length
  say(`${ok} of ${results.length} targets have the whole set.\n`)
}
