// Types of scripts/build-helper.mjs for electron.vite.config.ts, vitest and tests.
export const HELPER_SOURCE: string
export const HELPER_PYZ: string
export function helperEntries(src?: string): { name: string; data: string }[]
export function buildHelper(src?: string): Buffer
export function writeHelper(
  out?: string,
  src?: string
): { path: string; size: number; sha256: string }
