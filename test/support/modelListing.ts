// The shared listing vector (test/fixtures/modelListing.json) laid out on disk,
// and its rows in one order, for the local walker's and the helper's tests.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

export interface ListingVector {
  files: string[]
  links: { path: string; to: string }[]
  yaml: string
  yamlAt: string
  comfyui: string
  expect: [string, string, boolean][]
  partials: [string, string][]
}

export const listingVector = (): ListingVector =>
  JSON.parse(readFileSync(new URL('../fixtures/modelListing.json', import.meta.url), 'utf8'))

/** Writes the vector's tree under `root`; returns the ComfyUI folder. */
export function layOut(v: ListingVector, root: string): string {
  for (const f of v.files) {
    mkdirSync(dirname(join(root, f)), { recursive: true })
    writeFileSync(join(root, f), f)
  }
  for (const l of v.links) symlinkSync(l.to, join(root, l.path))
  writeFileSync(join(root, v.yamlAt, 'extra_model_paths.yaml'), v.yaml)
  return join(root, v.comfyui)
}

/** Rows sorted by their JSON text: the same order whatever order a walker used. */
export const sorted = <T>(rows: T[]): T[] =>
  [...rows].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
