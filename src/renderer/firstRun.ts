// A target name not yet taken: "local", then "local-2", "local-3", …
// (main refuses a second target of the same name).
export function uniqueName(base: string, taken: readonly string[]): string {
  const names = new Set(taken.map((n) => n.toLowerCase()))
  if (!names.has(base.toLowerCase())) return base
  for (let i = 2; ; i++) if (!names.has(`${base}-${i}`.toLowerCase())) return `${base}-${i}`
}
