// Where PodPull's bundled resources (the tray icon, the model catalog) and
// build products (the pod helper's .pyz) live. One function for every caller,
// because the layouts differ: a packaged app keeps them in
// `process.resourcesPath` (outside app.asar), the built tree beside `out/`
// (out/main → ../../resources), the source tree in ./resources
// (src/main/x → ../../../resources).
import { existsSync } from 'node:fs'
import { join } from 'node:path'

export interface ResourceLayout {
  /** Directory of the running bundle (out/main, or a source folder in tests). */
  bundleDir: string
  /** Electron's process.resourcesPath; absent under plain Node. */
  resourcesPath?: string
  /** An explicit override (e.g. PODPULL_HELPER for the helper). */
  override?: string
  cwd?: string
  /** Path functions; path.win32 / path.posix in tests. */
  join?: (...parts: string[]) => string
}

/** Every place `rel` (e.g. "icon.png") may be, most specific first. */
export function resourceCandidates(rel: string, layout: ResourceLayout): string[] {
  const j = layout.join ?? join
  const parts = rel.split('/')
  const list = [
    layout.override,
    layout.resourcesPath && j(layout.resourcesPath, ...parts),
    j(layout.bundleDir, '..', '..', 'resources', ...parts),
    j(layout.bundleDir, '..', '..', '..', 'resources', ...parts),
    layout.cwd && j(layout.cwd, 'resources', ...parts)
  ]
  return list.filter((p): p is string => typeof p === 'string' && p.length > 0)
}

/** Every place a build product `rel` (e.g. "helper/podpull_helper.pyz", which
 *  `npm run build` writes under out/) may be: packaged it is copied into
 *  process.resourcesPath like any resource; otherwise it sits in out/, beside
 *  the bundle (out/main, out/main/chunks) or, seen from the source tree, at
 *  the repository's out/. */
export function builtCandidates(rel: string, layout: ResourceLayout): string[] {
  const j = layout.join ?? join
  const parts = rel.split('/')
  const list = [
    layout.override,
    layout.resourcesPath && j(layout.resourcesPath, ...parts),
    j(layout.bundleDir, '..', ...parts),
    j(layout.bundleDir, '..', '..', ...parts),
    j(layout.bundleDir, '..', '..', '..', 'out', ...parts),
    layout.cwd && j(layout.cwd, 'out', ...parts)
  ]
  return list.filter((p): p is string => typeof p === 'string' && p.length > 0)
}

/** The first candidate that exists, or undefined. */
export function findResource(
  rel: string,
  layout: ResourceLayout,
  exists: (p: string) => boolean = existsSync
): string | undefined {
  return resourceCandidates(rel, layout).find((p) => exists(p))
}

/** The layout of this process: Electron sets process.resourcesPath, plain Node doesn't. */
export function processLayout(bundleDir: string, override?: string): ResourceLayout {
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath
  return { bundleDir, resourcesPath, override, cwd: process.cwd() }
}
