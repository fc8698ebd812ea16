// `podpull`: the command-line surface (DESIGN.md "CLI"). It runs the same core
// and handler table as the app, so every argument goes through the same
// validation. Exit codes: 0 success (including "already present"), 1 a failed
// download, 2 bad usage — each failure with one clear line on stderr.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createApp, type PodPullApp } from '../main/app'
import { invokeMethod } from '../main/api/dispatch'
import { createNodeStore } from '../main/settings/createStore'
import type { ApiArgs, ApiMethod, ApiResults } from '../shared/api'
import { ACTIVE_STATES, type DownloadRecord, type TargetInfo } from '../shared/types'
import { formatAgo } from '../shared/format'
import { formatSchedule, speedText, speedWord } from '../shared/bandwidth'
import { isUsageError } from '../shared/errorCodes'
import { follow } from './follow'
import { argvWithLink, isDetachedWorker, reportReady, runDetached } from './detach'
import { printStatus, reachTarget, withTargetName } from './statusView'
import { addModelsCommands, resolvedFile } from './modelsCommands'
import {
  ensureVolumePod,
  fillPodLine,
  registerRunpodCommands,
  settleVolumePod,
  type RunpodCliDeps
} from './runpod'
import { addSetsCommands, type SetsContext } from './setsCommands'
import { endQuietlyOnClosedPipe } from './closedPipe'
import { say, sayJson, warn } from './terminalOut'

const here = dirname(fileURLToPath(import.meta.url))

/** Exit codes. */
const OK = 0
const FAILED = 1
const USAGE = 2

class CliExit extends Error {
  constructor(
    readonly code: number,
    message: string
  ) {
    super(message)
  }
}

let app: PodPullApp | null = null

async function openApp(open = false): Promise<PodPullApp> {
  // One-shot commands never auto-resume other jobs: only `serve` (open) does.
  if (app) return app
  app = await createApp({
    store: createNodeStore(),
    host: 'headless',
    open,
    settingsOverride: open ? undefined : { autoResume: false, backgroundHashing: false }
  })
  // Fill pods a crashed run left: removed when done, else their work goes on.
  if (Object.keys(app.core.store.get('fillPods') ?? {}).length)
    await app.handlers.runpodReconcile({}).then(
      (r) => r.removed.forEach((b) => warn(`Removed a leftover CPU fill pod ${b.podId}.\n`)),
      (err: unknown) => warn(`Could not check the recorded fill pods: ${(err as Error).message}\n`)
    )
  return app
}

/** Calls a handler through the validating dispatcher, mapping errors to exit codes. */
async function call<M extends ApiMethod>(m: M, args: ApiArgs<M>): Promise<ApiResults[M]> {
  const a = await openApp()
  try {
    return (await invokeMethod(a.handlers, m, args)) as ApiResults[M]
  } catch (err) {
    const code = (err as { code?: unknown }).code
    throw new CliExit(isUsageError(code) ? USAGE : FAILED, (err as Error).message)
  }
}

async function targetByName(name: string): Promise<TargetInfo> {
  const a = await openApp()
  try {
    return a.core.findTarget(name).info()
  } catch (err) {
    throw new CliExit(USAGE, (err as Error).message)
  }
}

async function openTarget(name: string): Promise<TargetInfo> {
  const info = await targetByName(name)
  try {
    await app!.core.openTarget(info.id)
  } catch (err) {
    throw new CliExit(FAILED, withTargetName((err as Error).message, info.name))
  }
  return app!.core.target(info.id).info()
}

const VERB_HELP = {
  pause: 'pause a download (resumable; bytes kept)',
  resume: 'resume a paused or failed download; follows it unless --detach',
  cancel: 'cancel a download and delete its partial file'
} as const

const int = (what: string) => (v: string) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`${what} must be a whole number ≥ 1.`)
  return n
}

/** Runs `stop` on Ctrl-C / SIGTERM; a second Ctrl-C a moment later leaves at
 *  once. The listener stays registered (`on`, not `once`): libraries under
 *  us (signal-exit, when-exit) re-raise the signal when they find themselves
 *  the only listener, and when-exit re-sends it to us within milliseconds —
 *  so a repeat inside the first second is that echo, not the user. */
function onStopSignal(stop: () => void): () => void {
  let firstAt = 0
  const handler = (): void => {
    if (firstAt) {
      if (Date.now() - firstAt > 1000) process.exit(130)
      return
    }
    firstAt = Date.now()
    stop()
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return () => {
    process.off('SIGINT', handler)
    process.off('SIGTERM', handler)
  }
}

/** `serve` runs downloads for as long as it lives: a bug reached by one
 *  client's request must not end them. Last resort only (the server already
 *  guards every socket): log the error on stderr and keep serving. */
function keepServingOnUncaughtErrors(): void {
  const log = (what: string) => (err: unknown) =>
    warn(`PodPull serve: ${what}, still serving: ${(err as Error)?.stack ?? String(err)}\n`)
  process.on('uncaughtException', log('unexpected error'))
  process.on('unhandledRejection', log('unhandled rejection'))
}

/** Follows a job in the foreground, whichever process runs it; Ctrl-C pauses
 *  it (resumable, through its owner when another process runs it) and exits 130. */
async function followJob(targetId: string, id: string): Promise<DownloadRecord> {
  const a = await openApp()
  // Once Ctrl-C asked for a pause, its answer is what this command ends with.
  let stopping: Promise<unknown> | null = null
  const off = onStopSignal(() => {
    warn('\nPausing…\n')
    stopping = a.handlers
      .pauseDownload({ targetId, id })
      .then(
        () => warn(`Paused; run "podpull resume ${id}" to continue.\n`),
        (err: Error) => warn(`Could not pause it: ${err.message}\n`)
      )
      // A volume's fill pod has nothing left to do: it must not bill on.
      .then(() => settleVolumePod(a.core.target(targetId).info(), runpodDeps))
      .catch(() => undefined)
      .finally(() => a.dispose().finally(() => process.exit(130)))
  })
  try {
    for (;;) {
      const r = await follow(a.core, id)
      if (stopping) await stopping // it ends the process
      // The process running it died (not anyone's pause): go on with it here.
      if (!(await diedWhileFollowed(a, targetId, r))) return r
      warn('The process running this download stopped; continuing it here.\n')
      await a.handlers.resumeDownload({ targetId, id }).catch((err: { code?: unknown }) => {
        if (err.code !== 'busy') throw err // busy: another follower took it on; follow that
      })
    }
  } finally {
    off()
  }
}

/** A local download that ended paused because its owner went away. */
async function diedWhileFollowed(a: PodPullApp, targetId: string, r: DownloadRecord) {
  const t = a.core.target(targetId)
  if (r.state !== 'paused' || t.info().config.kind !== 'local' || !t.rawStatus) return false
  const e = (await t.rawStatus())[r.path] as { interrupted?: unknown; id?: unknown } | undefined
  return e?.id === r.id && e.interrupted === true
}

/** "Bandwidth of "home": 5.0 MB/s; 01:00-07:00=unlimited (Europe/Berlin). In force now: …" */
function describeLimits(t: TargetInfo): string {
  const l = t.config.bandwidth
  const base = `Bandwidth of "${t.name}": ${speedWord(l?.maxSpeed ?? null)}`
  const sched = l?.schedule.length
    ? `; ${formatSchedule(l.schedule)} (${l.timeZone ?? 'local time'})`
    : ''
  return `${base}${sched}. In force now: ${t.bandwidth?.text ?? 'unlimited'}.\n`
}

function finish(r: DownloadRecord): number {
  if (r.state === 'completed') {
    say(`Saved ${r.path}\n`)
    return OK
  }
  if (r.state === 'paused') {
    // Not there yet: a script must not go on as if the file were.
    warn(`Paused at ${r.progress}%: ${r.path} (run "podpull resume ${r.id}")\n`)
    return FAILED
  }
  warn(`Error: ${r.error ?? `the download ended as ${r.state}`}\n`)
  return FAILED
}

/** Runs the same command again in a detached process, without --detach (local
 *  targets: the download lives in the process that runs it), and returns once
 *  that process has started the work, or fails with the reason it gave. */
async function detachSelf(link: string | undefined): Promise<{
  id: string
  outcome: string
  path?: string
  linkedFrom?: string
}> {
  const r = await runDetached(
    process.argv.slice(1).filter((a) => a !== '--detach'),
    link
  )
  if (!r.ok || !r.id || !r.outcome)
    throw new CliExit(r.exitCode ?? FAILED, r.message ?? 'The background process did not start.')
  return { id: r.id, outcome: r.outcome, path: r.path, linkedFrom: r.linkedFrom }
}

function buildProgram(): Command {
  const program = new Command('podpull')
    .description('Download AI models into ComfyUI, locally or on pods over SSH.')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(run "podpull --help" for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => warn(s) })

  const targets = program.command('targets').description('manage download targets')
  targets
    .command('list')
    .description('list the targets with where they point')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const a = await openApp()
      const list = a.core.targetInfos()
      if (o.json) return void sayJson(list)
      if (!list.length)
        return void say('No targets yet. Add one with "podpull targets add-local" or "add-ssh".\n')
      for (const t of list) {
        const where =
          t.config.kind === 'local'
            ? t.config.comfyui
            : `${t.config.user}@${t.config.host}:${t.config.port}`
        const seen = t.config.kind === 'ssh' ? `  last seen ${formatAgo(t.lastSeen)}` : ''
        const cap = t.bandwidth ? `  cap ${t.bandwidth.text}` : ''
        say(`${t.name}\t${t.config.kind}\t${where}${seen}${cap}\n`)
      }
    })
  targets
    .command('add-local <name>')
    .description('add a ComfyUI folder on this machine as a target')
    .requiredOption('--comfyui <dir>', 'the ComfyUI folder (contains models/)')
    .option('--workspace <dir>', 'state folder (default: the parent of --comfyui)')
    .action(async (name: string, o: { comfyui: string; workspace?: string }) => {
      const t = await call('addTarget', {
        kind: 'local',
        name,
        comfyui: resolve(o.comfyui),
        workspace: o.workspace ? resolve(o.workspace) : undefined
      })
      say(`Added local target "${t.name}" (${t.id}).\n`)
    })
  targets
    .command('add-ssh <name>')
    .description('add a pod reached over SSH as a target (probes it first)')
    .requiredOption('--host <host>', 'pod address')
    .option('--port <port>', 'SSH port', int('--port'), 22)
    .option('--user <user>', 'SSH user', 'root')
    .option('--key <file>', 'private key file (default: ssh-agent)')
    .option('--workspace <dir>', 'pod workspace', '/workspace')
    .option('--comfyui <dir>', 'ComfyUI folder on the pod (default: probed)')
    .option('--accept-new-host-key', 'trust the host key on first contact')
    .action(async (name: string, o: Record<string, string | number | boolean | undefined>) => {
      const input = {
        kind: 'ssh' as const,
        name,
        host: String(o.host),
        port: Number(o.port),
        user: String(o.user),
        keyPath: o.key ? resolve(String(o.key)) : undefined,
        workspace: String(o.workspace),
        comfyui: o.comfyui ? String(o.comfyui) : undefined,
        secret: process.env.PODPULL_SSH_SECRET || undefined
      }
      const probe = await call('testConnection', input)
      let acceptHostKey: string | undefined
      if (probe.needsHostKeyConfirmation) {
        if (!o.acceptNewHostKey) {
          throw new CliExit(
            USAGE,
            `The host key of ${input.host}:${input.port} is not trusted yet (${probe.fingerprint}). ` +
              'Check it, then add --accept-new-host-key.'
          )
        }
        acceptHostKey = probe.fingerprint
      } else if (!probe.ok) {
        throw new CliExit(FAILED, probe.message)
      }
      const t = await call('addTarget', { ...input, acceptHostKey })
      say(`Added pod "${t.name}" (${t.id})${t.comfyui ? `, ComfyUI at ${t.comfyui}` : ''}.\n`)
    })
  targets
    .command('remove <name>')
    .description('forget a target (nothing on it is deleted)')
    .action(async (name: string) => {
      const t = await targetByName(name)
      await call('removeTarget', { id: t.id })
      say(`Removed "${name}".\n`)
    })
  // ── Bandwidth: a cap for the whole target and a daily schedule ──
  targets
    .command('set <name>')
    .description('cap the bandwidth of all the downloads of a target together')
    .option('--max-speed <speed>', 'e.g. 5MB (MB/s), 750KB, 1.5MiB, or unlimited')
    .option(
      '--schedule <windows>',
      'daily windows with their own cap, e.g. "01:00-07:00=unlimited, 12:00-13:00=10MB"; "none" clears'
    )
    .option('--time-zone <zone>', "the schedule's time zone (default: this machine's)")
    .action(
      async (name: string, o: { maxSpeed?: string; schedule?: string; timeZone?: string }) => {
        if (o.maxSpeed === undefined && o.schedule === undefined)
          throw new CliExit(
            USAGE,
            'Say what to set: --max-speed 5MB and/or --schedule "01:00-07:00=unlimited".'
          )
        const t = await targetByName(name)
        // A pod is reached first, so its helper takes the limits up now; one
        // that can't be reached gets them at the next connection of any PodPull.
        if (t.config.kind === 'ssh') await openTarget(name).catch(() => undefined)
        const now = t.config.bandwidth
        const info = await call('setBandwidth', {
          id: t.id,
          maxSpeed: o.maxSpeed ?? speedText(now?.maxSpeed ?? null),
          schedule:
            o.schedule === undefined
              ? formatSchedule(now?.schedule ?? [])
              : o.schedule.trim().toLowerCase() === 'none'
                ? ''
                : o.schedule,
          timeZone: o.timeZone ?? (o.schedule === undefined ? now?.timeZone : undefined)
        })
        say(describeLimits(info))
        if (info.config.kind === 'ssh' && info.connection !== 'online')
          say(`"${info.name}" is not connected: they reach it when PodPull next connects to it.\n`)
      }
    )

  // ── Trust a rebuilt pod's new host key ──
  targets
    .command('trust <name>')
    .description("trust the host key a pod presents now (after a rebuild), once you've checked it")
    .requiredOption('--fingerprint <SHA256:…>', 'the new key, as the pod prints it')
    .action(async (name: string, o: { fingerprint: string }) => {
      const t = await targetByName(name)
      const info = await call('trustHostKey', { id: t.id, fingerprint: o.fingerprint })
      say(`Trusted ${o.fingerprint.trim()} for "${name}".\n`)
      if (info.connection !== 'online' && info.message)
        throw new CliExit(FAILED, `"${name}" is still not reachable: ${info.message}`)
    })

  // RunPod: `runpod pods|start|stop|volumes`, `targets import-runpod|add-runpod-volume`.
  registerRunpodCommands(program, targets, runpodDeps)

  program
    .command('download <url>')
    .description('download a model; follows progress until done unless --detach')
    .requiredOption('--target <name>', 'target name')
    .option('--folder <folder>', 'models sub-folder (default: suggested from the file)')
    .option('--filename <name>', 'file name (default: from the server)')
    .option('--sha256 <hex>', 'expected sha256')
    .option('--connections <n>', 'parallel connections', int('--connections'))
    .option('--overwrite', 'replace a different file of the same name')
    .option('--detach', 'return at once; the download goes on')
    .option('--yes', "network volumes: accept the CPU fill pod's cost")
    .action(
      async (
        url: string,
        o: {
          target: string
          folder?: string
          filename?: string
          sha256?: string
          connections?: number
          overwrite?: boolean
          detach?: boolean
          yes?: boolean
        }
      ) => {
        const info = await targetByName(o.target)
        if (o.detach && info.config.kind === 'local') {
          const r = await detachSelf(url)
          if (r.outcome === 'already-present') return void say(`Already present: ${r.path}\n`)
          if (r.outcome === 'linked') return void say(linkedLine(r.linkedFrom, r.path ?? ''))
          warn(
            r.outcome === 'already-active'
              ? `Already downloading (${r.id}) in another PodPull process.\n`
              : `Started in the background; see "podpull status".\n`
          )
          return void say(`${r.id}\n`)
        }
        await ensureVolumePod(info, o.yes, runpodDeps)
        await openTarget(o.target)
        // A Civitai AIR (urn:air:…) is not a URL: resolve it to the file it names.
        const file = /^urn:/i.test(url) ? await resolvedFile(cliContext, url) : undefined
        const res = await call('startDownload', {
          targetId: info.id,
          url: file?.url ?? url,
          folder: o.folder ?? file?.suggestedFolder,
          filename: o.filename ?? file?.filename,
          sha256: o.sha256 ?? file?.sha256 ?? undefined,
          connections: o.connections,
          overwrite: o.overwrite
        })
        const folder = res.suggestedFolder ?? (o.folder ? undefined : file?.suggestedFolder)
        if (folder) {
          // extra_model_paths.yaml may send the folder elsewhere: say where.
          const inModels = res.path.includes(`/models/${folder}/`)
          const where = inModels ? `models/${folder}` : `${folder} → ${dirname(res.path)}`
          warn(`Folder: ${where} (suggested; choose another with --folder)\n`)
        }
        if (isDetachedWorker()) {
          reportReady({
            ok: true,
            id: res.id,
            outcome: res.outcome,
            path: res.path,
            linkedFrom: res.linkedFrom
          })
          // Another process runs it (or it is there): nothing for a worker to do.
          if (res.outcome !== 'started') return
        }
        if (res.outcome === 'already-present') {
          say(`Already present: ${res.path}\n`)
          await settleVolumePod(info, runpodDeps)
          return
        }
        if (res.outcome === 'linked') return void say(linkedLine(res.linkedFrom, res.path))
        if (res.outcome === 'already-active')
          warn(`Already downloading (${res.id}); following it.\n`)
        if (o.detach) {
          say(`${res.id}\n`)
          return
        }
        process.exitCode = finish(await followJob(info.id, res.id))
        await settleVolumePod(info, runpodDeps)
      }
    )

  program
    .command('push <files...>')
    .description(
      "push files of this computer to a pod's models folder (resumable; installed after its sha256 matches)"
    )
    .requiredOption('--target <name>', 'pod target name')
    .option('--folder <folder>', "models sub-folder (default: the file's own, e.g. …/models/loras)")
    .option('--name <name>', 'file name on the pod (one file only)')
    .option('--overwrite', 'replace a different file of the same name')
    .action(
      async (
        files: string[],
        o: { target: string; folder?: string; name?: string; overwrite?: boolean }
      ) => {
        if (o.name && files.length > 1)
          throw new CliExit(USAGE, '--name names one file; push several files without it.')
        const info = await openTarget(o.target)
        let failed = false
        for (const file of files) {
          const res = await call('pushFile', {
            targetId: info.id,
            file: resolve(file),
            ...(o.folder ? { folder: o.folder } : {}),
            ...(o.name ? { filename: o.name } : {}),
            ...(o.overwrite ? { overwrite: true } : {})
          })
          if (res.outcome === 'already-present') {
            say(`Already there: ${res.path}\n`)
            continue
          }
          if (res.outcome === 'already-active')
            warn(`Already being pushed (${res.id}); following it.\n`)
          else warn(`Pushing ${file} → ${info.name}:${res.path} (${res.id})\n`)
          if (finish(await followJob(info.id, res.id)) !== OK) failed = true
        }
        if (failed) process.exitCode = FAILED
      }
    )

  program
    .command('status')
    .description('downloads on every target (or one), with progress and state')
    .option('--target <name>', 'only this target')
    .option('--json', 'print the status file as it is')
    .action(async (o: { target?: string; json?: boolean }) => {
      const a = await openApp()
      const infos = o.target ? [await targetByName(o.target)] : a.core.targetInfos()
      if (o.json && o.target) {
        const info = infos[0]!
        const t = a.core.target(info.id)
        // A local file is read as stored, without opening the target (no resumes
        // start); the reader refuses a FIFO and a file too large to be real.
        if (info.config.kind !== 'local') await openTarget(o.target)
        sayJson(t.rawStatus ? await t.rawStatus() : t.downloads())
        return
      }
      const unreachable = new Map<string, string>()
      for (const info of infos) {
        const why = await reachTarget(a, info.id)
        if (why) unreachable.set(info.id, why)
      }
      const records = infos.flatMap((i) => a.core.target(i.id).downloads())
      if (o.json) sayJson(records)
      else {
        for (const info of infos.map((i) => a.core.target(i.id).info())) {
          if (info.config.kind !== 'ssh' || !info.config.runpodVolume) continue
          say(
            `"${info.name}": ${info.fillPod ? fillPodLine(info.fillPod) : 'no pod has the volume mounted'}\n`
          )
          unreachable.delete(info.id)
        }
        printStatus(a, infos, records, unreachable)
      }
      if (unreachable.size) {
        const names = infos.filter((i) => unreachable.has(i.id))
        throw new CliExit(
          FAILED,
          names.map((i) => `Cannot reach "${i.name}": ${unreachable.get(i.id)}`).join('\n')
        )
      }
    })

  for (const verb of ['pause', 'resume', 'cancel'] as const) {
    const cmd = program
      .command(`${verb} <id>`)
      .description(VERB_HELP[verb])
      .requiredOption('--target <name>', 'target name')
    if (verb === 'resume')
      cmd
        .option('--detach', 'return at once')
        .option('--url <fresh-url>', 'continue with a fresh link to the same file')
        .option('--yes', "network volumes: accept the CPU fill pod's cost")
    cmd.action(
      async (id: string, o: { target: string; detach?: boolean; url?: string; yes?: boolean }) => {
        if (
          verb === 'resume' &&
          o.detach &&
          (await targetByName(o.target)).config.kind === 'local'
        ) {
          const r = await detachSelf(o.url)
          say(
            r.outcome === 'already-active'
              ? `${id} is already running in another PodPull process.\n`
              : `Resumed ${id} in the background.\n`
          )
          return
        }
        if (verb === 'resume')
          await ensureVolumePod(await targetByName(o.target), o.yes, runpodDeps)
        const info = await openTarget(o.target)
        const method = `${verb}Download` as const
        const before = app!.core
          .target(info.id)
          .downloads()
          .find((r) => r.id === id)
        await call(method, {
          targetId: info.id,
          id,
          ...(o.url !== undefined ? { url: o.url } : {})
        })
        // A resume leaves a download that was already running (no fresh link) where it runs.
        const running =
          verb === 'resume' && o.url === undefined && before && ACTIVE_STATES.includes(before.state)
        if (isDetachedWorker()) {
          reportReady({ ok: true, id, outcome: running ? 'already-active' : 'started' })
          if (running) return
        }
        if (verb === 'resume' && !o.detach) {
          process.exitCode = finish(await followJob(info.id, id))
          await settleVolumePod(info, runpodDeps)
          return
        }
        if (running) return say(`${id} is already running.\n`)
        say(`${verb === 'cancel' ? 'Cancelled' : verb === 'pause' ? 'Paused' : 'Resumed'} ${id}.\n`)
        if (verb !== 'resume') await settleVolumePod(info, runpodDeps)
      }
    )
  }

  program
    .command('clear-completed')
    .description('remove finished downloads from the list (the files stay)')
    .requiredOption('--target <name>', 'target name')
    .action(async (o: { target: string }) => {
      const info = await openTarget(o.target)
      const { removed } = await call('clearCompleted', { targetId: info.id })
      say(`Cleared ${removed} finished download${removed === 1 ? '' : 's'}.\n`)
    })

  // Diagnostics: one archive for a bug report, no secrets.
  program
    .command('diagnostics')
    .description(
      'write one .tar.gz to attach to a bug report: versions, OS, targets, recent logs, ' +
        "each pod's status file and helper log tail (tokens and signed-URL values removed)"
    )
    .option('--output <file>', 'where to write it (default: PODPULL_HOME/diagnostics/…)')
    .action(async (o: { output?: string }) => {
      const a = await openApp()
      const out = o.output ? resolve(o.output) : undefined
      try {
        say(`${await a.diagnostics(out)}\n`)
      } catch (err) {
        throw new CliExit(
          FAILED,
          `Could not write the diagnostics archive: ${(err as Error).message}`
        )
      }
    })

  program
    .command('serve')
    .description('serve the dashboard in a browser (same handlers as the app)')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .addOption(new Option('--port <port>', 'port (default: any free one)').argParser(int('--port')))
    .action(async (o: { host: string; port?: number }) => {
      const a = await openApp(true)
      // Loaded here only: ws and the server are start-up time no other command needs.
      const { publicBindWarning, startHeadlessServer } = await import('../main/headless/server')
      const server = await startHeadlessServer({
        handlers: a.handlers,
        events: a.core,
        images: a.images,
        staticDir: join(here, '../renderer'),
        host: o.host,
        port: o.port,
        token: process.env.PODPULL_SERVE_TOKEN || undefined
      })
      const warning = publicBindWarning(o.host)
      if (warning) warn(`${warning}\n`)
      keepServingOnUncaughtErrors()
      say(`PodPull dashboard: ${server.pageUrl}\n`)
      const stop = (): void => {
        void server
          .close()
          .then(() => a.dispose())
          .finally(() => process.exit(0))
      }
      onStopSignal(stop)
      await new Promise(() => undefined)
    })

  // Models: resolve, models, workflow
  addModelsCommands(program, cliContext)
  addSetsCommands(program, cliContext)

  return program
}

const runpodDeps: RunpodCliDeps = {
  call,
  usage: (m) => new CliExit(USAGE, m),
  failed: (m) => new CliExit(FAILED, m)
}

const cliContext: SetsContext = {
  jobs: async () => (await openApp()).core,
  volumePod: {
    ensure: (info, yes) => ensureVolumePod(info, yes, runpodDeps),
    settle: (info) => settleVolumePod(info, runpodDeps)
  },
  call,
  openTarget,
  targetByName,
  followJob,
  exit: (code, message) => new CliExit(code, message)
}

export async function main(argv = process.argv): Promise<number> {
  const program = buildProgram()
  endQuietlyOnClosedPipe(() => {
    void (app?.dispose() ?? Promise.resolve())
      .catch(() => undefined)
      .finally(() => process.exit(OK))
  })
  try {
    await program.parseAsync(await argvWithLink(argv))
    return typeof process.exitCode === 'number' ? process.exitCode : OK
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help / --version exit 0; anything else commander rejects is usage.
      return err.exitCode === 0 ? OK : USAGE
    }
    const code = err instanceof CliExit ? err.code : FAILED
    if (isDetachedWorker())
      reportReady({ ok: false, message: (err as Error).message, exitCode: code })
    warn(`Error: ${(err as Error).message}\n`)
    return code
  } finally {
    await app?.dispose().catch(() => undefined)
  }
}

main().then((code) => {
  process.exitCode = code
  // Pods keep SSH sockets and watchers open; the command is done.
  setImmediate(() => process.exit(code))
})

/** A download the target had the content of already: nothing was fetched. */
function linkedLine(from: string | undefined, path: string): string {
  return `Already had it as ${from ?? 'another file'} — linked: ${path} (0 bytes downloaded)\n`
}
