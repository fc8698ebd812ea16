// The single source of truth in main: targets, settings, tokens and the event
// stream every window / WebSocket client sees. Electron-free, so the CLI and
// the headless server run exactly this.
import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import type { ApiEvents } from '../../shared/api'
import {
  DEFAULT_SETTINGS,
  type DownloadRecord,
  type Settings,
  type Snapshot,
  type TargetConfig,
  type TargetInfo,
  type TokenStatus
} from '../../shared/types'
import { PodCacheFiles } from '../settings/podCacheFiles'
import type { AppStore } from '../settings/createStore'
import type { StoredTarget } from '../settings/storeSchema'
import { UserError } from '../errors'
import type { BandwidthLimits } from '../../shared/bandwidth'
import type { Target } from '../targets/target'
import { DownloadEventThrottle } from './eventThrottle'
import { dropUnusedPin, trustPresentedKey } from './hostKeyPins'
import type { SecretBox, TokenStore } from './tokenStore'

/** What only a desktop shell can do; absent in headless mode. */
export interface NativeShell {
  pickFolder(title?: string): Promise<string | null>
  openFolder(path: string): Promise<void>
  /** A desktop notification (PodPull stopped a pod, …); absent where there is no desktop. */
  notify?(title: string, body: string): void
}

export interface TargetContext {
  store: AppStore
  settings: () => Settings
  tokens: TokenStore
  /** The passphrase / password of a target, if one was given. */
  secret: (targetId: string) => string | undefined
  /** A fingerprint the user just confirmed for this target. */
  acceptHostKey?: string
  /** Tells the user something PodPull did to a target on its own (e.g. stopped a pod). */
  notice?: (targetId: string, message: string) => void
}

export type TargetFactory = (stored: StoredTarget, ctx: TargetContext) => Target

export interface CoreOptions {
  store: AppStore
  host: Snapshot['host']
  tokens: TokenStore
  createTarget: TargetFactory
  /** Seals secrets at rest; without it secrets live in memory for this run only. */
  secretBox?: SecretBox
  native?: NativeShell
  /** Settings forced for this process (a one-shot CLI command never auto-resumes). */
  settingsOverride?: Partial<Settings>
}

export class PodPullCore extends EventEmitter<{ [E in keyof ApiEvents]: [ApiEvents[E]] }> {
  readonly store: AppStore
  readonly host: Snapshot['host']
  readonly tokens: TokenStore
  readonly native: NativeShell | undefined
  private readonly createTarget: TargetFactory
  private readonly secretBox: SecretBox | undefined
  private readonly memorySecrets = new Map<string, string>()
  private readonly targets = new Map<string, Target>()
  private readonly throttle: DownloadEventThrottle
  private readonly settingsOverride: Partial<Settings>
  private readonly notices = new Map<string, string>()
  private readonly noticeListeners = new Set<(targetId: string, message: string) => void>()

  constructor(opts: CoreOptions) {
    super()
    this.store = opts.store
    this.host = opts.host
    this.tokens = opts.tokens
    this.native = opts.native
    this.createTarget = opts.createTarget
    this.secretBox = opts.secretBox
    this.settingsOverride = opts.settingsOverride ?? {}
    this.throttle = new DownloadEventThrottle((ev) => this.emit('downloadsChanged', ev))
  }

  /** Builds every stored target; opens them all unless told not to (the CLI
   *  opens only the one a command names). A pod that is down does not block. */
  async init(opts: { open?: boolean } = {}): Promise<void> {
    for (const stored of this.store.get('targets')) this.attach(stored)
    if (opts.open === false) return
    await Promise.all([...this.targets.values()].map((t) => this.openQuietly(t)))
  }

  /** Opens one target and waits for it (errors surface to the caller). */
  async openTarget(id: string): Promise<Target> {
    const t = this.target(id)
    await t.open()
    return t
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.targets.values()].map((t) => t.close().catch(() => undefined)))
    this.throttle.flush()
    this.throttle.dispose()
  }

  settings(): Settings {
    return { ...DEFAULT_SETTINGS, ...this.store.get('settings'), ...this.settingsOverride }
  }

  setSettings(patch: Partial<Settings>): Settings {
    const next = { ...DEFAULT_SETTINGS, ...this.store.get('settings'), ...patch }
    this.store.set('settings', next)
    this.emit('settingsChanged', next)
    return next
  }

  tokenStatus(): TokenStatus {
    return this.tokens.status()
  }

  setToken(kind: 'hf' | 'civitai' | 'runpod', value: string | null): TokenStatus {
    if (!this.tokens.set) {
      throw new UserError(
        'read-only',
        'Tokens come from the environment here: set HF_TOKEN, CIVITAI_API_TOKEN or RUNPOD_API_KEY and restart.'
      )
    }
    this.tokens.set(kind, value)
    const status = this.tokens.status()
    this.emit('tokensChanged', status)
    return status
  }

  snapshot(): Snapshot {
    return {
      targets: this.targetInfos(),
      downloads: this.downloads(),
      settings: this.settings(),
      tokens: this.tokens.status(),
      host: this.host
    }
  }

  targetInfos(): TargetInfo[] {
    return [...this.targets.values()].map((t) => {
      const notice = this.notices.get(t.id)
      return notice ? { ...t.info(), notice } : t.info()
    })
  }

  /** Something PodPull did to a target by itself: shown on its card, logged,
   *  and (with notifications on) a desktop notification. null clears it. */
  notice(targetId: string, message: string | null): void {
    if (message === null) {
      if (this.notices.delete(targetId)) this.emitTargets()
      return
    }
    this.notices.set(targetId, message)
    this.emitTargets()
    this.noticeListeners.forEach((l) => l(targetId, message))
    if (this.settings().notifications) this.native?.notify?.('PodPull', message)
  }

  /** Hears every notice (the app log); returns an unsubscribe function. */
  onNotice(listener: (targetId: string, message: string) => void): () => void {
    this.noticeListeners.add(listener)
    return () => this.noticeListeners.delete(listener)
  }

  downloads(): DownloadRecord[] {
    return [...this.targets.values()].flatMap((t) => t.downloads())
  }

  target(id: string): Target {
    const t = this.targets.get(id)
    if (!t) throw new UserError('not-found', `There is no target with id "${id}".`)
    return t
  }

  /** Looks a target up by id or by name (the CLI uses names). */
  findTarget(idOrName: string): Target {
    const byId = this.targets.get(idOrName)
    if (byId) return byId
    const stored = this.store.get('targets').find((t) => t.name === idOrName)
    if (!stored) {
      const names = this.store.get('targets').map((t) => t.name)
      throw new UserError(
        'not-found',
        `No target named "${idOrName}".` +
          (names.length
            ? ` Known targets: ${names.join(', ')}.`
            : ' Add one with "podpull targets add-local" or "add-ssh".')
      )
    }
    return this.target(stored.id)
  }

  storedTarget(id: string): StoredTarget {
    const stored = this.store.get('targets').find((t) => t.id === id)
    if (!stored) throw new UserError('not-found', `There is no target with id "${id}".`)
    return stored
  }

  async addTarget(
    name: string,
    config: TargetConfig,
    opts: { secret?: string; acceptHostKey?: string } = {}
  ): Promise<TargetInfo> {
    const targets = this.store.get('targets')
    if (targets.some((t) => t.name === name)) {
      throw new UserError('exists', `A target named "${name}" already exists.`)
    }
    const stored: StoredTarget = { id: randomUUID().slice(0, 8), name, config }
    if (opts.secret) this.saveSecret(stored.id, opts.secret)
    const target = this.attach(stored, opts.acceptHostKey)
    try {
      await target.open()
    } catch (err) {
      // A pod that refuses (bad key, host key not confirmed) is not saved half-way.
      this.detach(stored.id)
      await target.close().catch(() => undefined)
      this.forgetSecret(stored.id)
      throw err
    }
    this.store.set('targets', [...targets, stored])
    this.emitTargets()
    return target.info()
  }

  async updateTarget(
    id: string,
    patch: { name?: string; secret?: string; acceptHostKey?: string } & Partial<
      Record<string, unknown>
    >
  ): Promise<TargetInfo> {
    const stored = this.storedTarget(id)
    const { name, secret, acceptHostKey, ...configPatch } = patch
    if (name && name !== stored.name && this.store.get('targets').some((t) => t.name === name)) {
      throw new UserError('exists', `A target named "${name}" already exists.`)
    }
    const next: StoredTarget = {
      ...stored,
      name: name ?? stored.name,
      config: { ...stored.config, ...configPatch } as TargetConfig
    }
    if (secret !== undefined) this.saveSecret(id, secret)
    const old = this.targets.get(id)
    this.detach(id)
    await old?.close().catch(() => undefined)
    const target = this.attach(next, acceptHostKey)
    this.store.set(
      'targets',
      this.store.get('targets').map((t) => (t.id === id ? next : t))
    )
    await this.openQuietly(target)
    this.emitTargets()
    return target.info()
  }

  /** Saves a target's bandwidth limits and hands them to the live target,
   *  which applies them to its running downloads without reconnecting. */
  async setBandwidth(id: string, limits: BandwidthLimits): Promise<TargetInfo> {
    const stored = this.storedTarget(id)
    const target = this.target(id)
    if (!target.setBandwidth)
      throw new UserError('bad-request', `"${stored.name}" cannot take a bandwidth cap.`)
    await target.setBandwidth(limits)
    // Read again: a pod target saves the time it set them beside them.
    const now = this.storedTarget(id)
    const next: StoredTarget = { ...now, config: { ...now.config, bandwidth: limits } }
    this.store.set(
      'targets',
      this.store.get('targets').map((t) => (t.id === id ? next : t))
    )
    this.emitTargets()
    return target.info()
  }

  async removeTarget(id: string): Promise<void> {
    const target = this.target(id)
    const stored = this.storedTarget(id)
    const gone = target.downloads().map((r) => ({ id: r.id, rev: r.rev + 1 }))
    this.detach(id)
    this.notices.delete(id)
    await target.close().catch(() => undefined)
    this.store.set(
      'targets',
      this.store.get('targets').filter((t) => t.id !== id)
    )
    PodCacheFiles.beside(this.store.path).remove(id)
    const own = { ...this.store.get('ownJobs') }
    delete own[id]
    this.store.set('ownJobs', own)
    dropUnusedPin(this.store, stored)
    this.forgetSecret(id)
    if (gone.length) this.throttle.push({ targetId: id, upserts: [], removed: gone })
    this.emitTargets()
  }

  /** Trusts the host key a pod presents now (checked against `fingerprint`),
   *  then connects again with it. */
  async trustHostKey(id: string, fingerprint: string): Promise<TargetInfo> {
    const target = this.target(id)
    if (target.trustHostKey) await target.trustHostKey(fingerprint)
    else await trustPresentedKey(this.store, this.storedTarget(id), fingerprint)
    return this.updateTarget(id, {})
  }

  /** Builds a target that is not stored (for "test connection" before saving). */
  transientTarget(
    name: string,
    config: TargetConfig,
    secret?: string,
    acceptHostKey?: string
  ): Target {
    const id = `test-${randomUUID().slice(0, 8)}`
    if (secret) this.memorySecrets.set(id, secret)
    return this.createTarget({ id, name, config }, this.context(acceptHostKey))
  }

  forgetTransient(target: Target): void {
    this.memorySecrets.delete(target.id)
  }

  private attach(stored: StoredTarget, acceptHostKey?: string): Target {
    const target = this.createTarget(stored, this.context(acceptHostKey))
    target.on('downloads', (ev) => this.throttle.push(ev))
    target.on('info', () => this.emitTargets())
    this.targets.set(stored.id, target)
    return target
  }

  private detach(id: string): void {
    const t = this.targets.get(id)
    if (!t) return
    t.removeAllListeners()
    this.targets.delete(id)
  }

  private context(acceptHostKey?: string): TargetContext {
    return {
      store: this.store,
      settings: () => this.settings(),
      tokens: this.tokens,
      secret: (targetId) => this.readSecret(targetId),
      acceptHostKey,
      notice: (targetId, message) => this.notice(targetId, message)
    }
  }

  private async openQuietly(target: Target): Promise<void> {
    // A pod that is down must not keep the app from starting: its info says why.
    await target.open().catch(() => undefined)
  }

  private emitTargets(): void {
    this.emit('targetsChanged', this.targetInfos())
  }

  /** Every secret value this process knows (tokens, target passphrases), for log redaction. */
  knownSecrets(): string[] {
    const tokens = [this.tokens.get('hf'), this.tokens.get('civitai'), this.tokens.get('runpod')]
    const targets = this.store.get('targets').map((t) => this.readSecret(t.id))
    return [...tokens, ...targets, ...this.memorySecrets.values()].filter(
      (s): s is string => typeof s === 'string' && s.length > 0
    )
  }

  private saveSecret(id: string, secret: string): void {
    if (this.secretBox) {
      this.store.set('secrets', {
        ...this.store.get('secrets'),
        [id]: this.secretBox.encrypt(secret)
      })
    } else {
      this.memorySecrets.set(id, secret)
    }
  }

  private readSecret(id: string): string | undefined {
    const mem = this.memorySecrets.get(id)
    if (mem !== undefined) return mem
    const sealed = this.store.get('secrets')[id]
    // Without a keychain, the command line (CLI, `podpull serve`) can take a
    // pod's passphrase from the environment; the desktop app asks instead.
    if (!sealed || !this.secretBox)
      return this.host === 'headless' ? process.env.PODPULL_SSH_SECRET || undefined : undefined
    try {
      return this.secretBox.decrypt(sealed)
    } catch {
      return undefined
    }
  }

  private forgetSecret(id: string): void {
    this.memorySecrets.delete(id)
    const secrets = { ...this.store.get('secrets') }
    if (id in secrets) {
      delete secrets[id]
      this.store.set('secrets', secrets)
    }
  }
}
